import { resolve } from 'node:path';
import { schemaName } from '../postgres/schema-name.js';
import type { Options } from './args.js';
import { UsageError } from './errors.js';

/** The database a URL points at, as the messages about it name it (never the password). */
export interface DatabaseTarget {
  host: string;
  port: string;
  database: string;
  user: string;
  /** The URL with its password replaced by `***`. */
  redacted: string;
  /** The `sslmode` the URL asks for, if any. */
  sslmode: string | undefined;
}

export type StoreSelection =
  | { kind: 'memory'; schema: string | undefined }
  | {
      kind: 'postgres';
      url: string;
      /** Where the URL came from, for messages and suggested commands. */
      source: '--database-url' | 'DATABASE_URL';
      target: DatabaseTarget;
      schema: string | undefined;
      /** False with --no-prepare: no named prepared statements (a transaction-mode pooler such as PgBouncer). */
      prepare: boolean;
      /** --timeout MS: each call to the server fails as unavailable after this long. */
      timeoutMs: number | undefined;
    }
  | { kind: 'embedded'; dir: string; dataDirGiven: boolean; schema: string | undefined };

/**
 * Which store the command line chose, checked before anything is opened:
 * `--memory`, else `--database-url` or `DATABASE_URL` (a postgres:// URL),
 * else the embedded database in `--data-dir` (default `./.user-engine`).
 */
export function selectStore(options: Options, env: NodeJS.ProcessEnv): StoreSelection {
  const schema = options.string('schema');
  if (schema !== undefined) checkSchema(schema);
  const flagUrl = options.string('database-url');
  const envUrl = env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  const serverOnly = options.has('no-prepare') || options.has('timeout');
  if (options.flag('memory')) {
    if (serverOnly) throw new UsageError('--no-prepare and --timeout apply to a server store, not --memory');
    if (flagUrl !== undefined) throw new UsageError('--memory and --database-url cannot be combined: choose one store');
    if (options.has('data-dir')) throw new UsageError('--memory and --data-dir cannot be combined: choose one store');
    return { kind: 'memory', schema };
  }
  const url = flagUrl ?? envUrl;
  if (url !== undefined) {
    const source = flagUrl !== undefined ? '--database-url' : 'DATABASE_URL';
    if (options.has('data-dir')) {
      throw new UsageError(`--data-dir selects the embedded database, but ${source} selects a server: choose one`);
    }
    const target = databaseTarget(url, source);
    return {
      kind: 'postgres',
      url: libpqSslSemantics(url),
      source,
      target,
      schema,
      prepare: !options.flag('no-prepare'),
      timeoutMs: timeoutOption(options),
    };
  }
  if (serverOnly) {
    throw new UsageError(
      '--no-prepare and --timeout apply to a server store: give --database-url (or set DATABASE_URL)',
    );
  }
  const dataDir = options.string('data-dir');
  return { kind: 'embedded', dir: resolve(dataDir ?? '.user-engine'), dataDirGiven: dataDir !== undefined, schema };
}

function checkSchema(schema: string): void {
  try {
    schemaName(schema);
  } catch {
    throw new UsageError(
      '--schema must be a Postgres identifier: 1 to 63 of a-z, 0-9 and _, not starting with a digit or pg_',
    );
  }
}

/** Parses and checks a database URL; the usage errors name where it came from, never its text. */
export function databaseTarget(url: string, source: string): DatabaseTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${source} is not a URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    const scheme = /^[a-z][a-z0-9+.-]{0,20}:$/i.test(parsed.protocol) ? `, not ${parsed.protocol}//` : '';
    throw new UsageError(`${source} must be a postgres:// or postgresql:// URL${scheme}`);
  }
  const user = decode(parsed.username) || parsed.searchParams.get('user') || 'the login user';
  const database = decode(parsed.pathname.slice(1)) || parsed.searchParams.get('dbname') || user;
  return {
    host: parsed.hostname || parsed.searchParams.get('host') || 'localhost',
    port: parsed.port || parsed.searchParams.get('port') || '5432',
    database,
    user,
    redacted: redactUrl(url),
    sslmode: parsed.searchParams.get('sslmode') ?? undefined,
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `sslmode` keeps the meaning libpq (psql, and every libpq-based migration
 * tool) gives it, so one DATABASE_URL means the same everywhere: node-postgres
 * 8 otherwise treats `require` as `verify-full` and prints a ten-line
 * deprecation warning. `verify-full` still verifies the server's certificate.
 */
function libpqSslSemantics(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('sslmode') || parsed.searchParams.has('uselibpqcompat')) return url;
  parsed.searchParams.set('uselibpqcompat', 'true');
  return parsed.toString();
}

/** Never print a password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of ['password', 'sslpassword'])
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Where the data lives, in words. */
export function describeSelection(selection: StoreSelection): string {
  const schema = selection.schema ?? 'user_engine';
  switch (selection.kind) {
    case 'memory':
      return 'in-memory store (discarded on exit)';
    case 'postgres':
      return `PostgreSQL ${selection.target.redacted} (from ${selection.source}), schema ${schema}`;
    case 'embedded':
      return `embedded PGlite database in ${selection.dir}, schema ${schema}`;
  }
}

/** The store options to repeat in a suggested command (`user-engine migrate --schema accounts`). */
export function storeFlags(selection: StoreSelection): string {
  const flags: string[] = [];
  if (selection.kind === 'postgres' && selection.source === '--database-url') flags.push('--database-url URL');
  if (selection.kind === 'embedded' && selection.dataDirGiven) flags.push(`--data-dir ${selection.dir}`);
  if (selection.schema !== undefined) flags.push(`--schema ${selection.schema}`);
  return flags.map((f) => ` ${f}`).join('');
}

/** `--timeout MS`: a whole number of milliseconds, 1 to 3,600,000. */
function timeoutOption(options: Options): number | undefined {
  const value = options.string('timeout');
  if (value === undefined) return undefined;
  const ms = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(ms >= 1 && ms <= 3_600_000))
    throw new UsageError('--timeout must be a whole number of milliseconds from 1 to 3600000');
  return ms;
}

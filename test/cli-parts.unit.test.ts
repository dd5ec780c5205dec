// The tool's parts, in process: reading the command line, suggestions,
// choosing and checking the store, explaining database errors (including
// ones the live suite cannot provoke: wrong passwords, privileges, TLS,
// timeouts), and the SQL that --print-sql prints.
import { describe, expect, it } from 'vitest';
import { Options, readCommandLine } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/commands.js';
import { explainDatabaseError } from '../src/cli/database-errors.js';
import { describeFailure } from '../src/cli/errors.js';
import { withheld } from '../src/cli/personal-values.js';
import { printableMigrations, versionsAfter } from '../src/cli/print-sql.js';
import { databaseTarget, selectStore } from '../src/cli/store-selection.js';
import { suggest } from '../src/cli/suggest.js';
import { UserEngine } from '../src/engine/engine.js';
import { migrationScript, POSTGRES_MIGRATIONS } from '../src/postgres/migrations/index.js';
import { schemaName } from '../src/postgres/schema-name.js';
import { SchemaNotReadyError, StoreUnavailableError, ValidationError } from '../src/store/errors.js';
import { SCHEMA_VERSIONS } from '../src/store/schema.js';

function options(argv: string[]): Options {
  return new Options(readCommandLine(argv).options);
}

describe('cli: reading the command line', () => {
  it('takes --name value and --name=value, a value that starts with -, and everything after -- as words', () => {
    const line = readCommandLine(['users', 'list', '--limit=5', '--after', '-x', '--json', '--', '--not-an-option']);
    expect(line.words).toEqual(['users', 'list', '--not-an-option']);
    expect(Object.fromEntries(line.options)).toEqual({ limit: '5', after: '-x', json: true });
  });

  it('keeps an unknown option aside (reported once the command is known) and reads -h as --help', () => {
    const line = readCommandLine(['status', '--lmit', '-h']);
    expect(line.unknownOption).toBe('--lmit');
    expect(line.options.get('help')).toBe(true);
  });

  it('whole numbers only, within range', () => {
    expect(options(['--limit', '1000']).integer('limit', 1, 1000)).toBe(1000);
    for (const bad of ['-5', '0', '1001', '1e3', '0x10', ' 5', '5.0', '99999999999999999']) {
      expect(() => options(['--limit', bad]).integer('limit', 1, 1000), bad).toThrow(/whole number from 1 to 1000/);
    }
  });
});

describe('cli: suggestions', () => {
  it('suggests what was close enough to be meant, and nothing otherwise', () => {
    expect(suggest('user', ['users', 'status'])).toBe('users');
    expect(suggest('lmit', ['limit', 'after'])).toBe('limit');
    expect(suggest('stauts', ['status', 'counts'])).toBe('status');
    expect(suggest('frobnicate', ['status', 'counts', 'users'])).toBeUndefined();
    expect(suggest('x', ['json', 'memory'])).toBeUndefined();
  });
});

describe('cli: choosing the store', () => {
  it('--memory, else a database URL (flag before DATABASE_URL), else the embedded directory', () => {
    expect(selectStore(options(['--memory']), { DATABASE_URL: 'postgres://h/db' }).kind).toBe('memory');
    const flag = selectStore(options(['--database-url', 'postgres://a@h/flag']), {
      DATABASE_URL: 'postgres://b@h/env',
    });
    expect(flag).toMatchObject({ kind: 'postgres', source: '--database-url', target: { database: 'flag' } });
    const env = selectStore(options([]), { DATABASE_URL: 'postgresql://b@h/env' });
    expect(env).toMatchObject({ kind: 'postgres', source: 'DATABASE_URL' });
    expect(selectStore(options([]), { DATABASE_URL: '' })).toMatchObject({ kind: 'embedded', dataDirGiven: false });
  });

  it('refuses --data-dir beside a URL, even one from DATABASE_URL', () => {
    expect(() => selectStore(options(['--data-dir', 'x']), { DATABASE_URL: 'postgres://h/db' })).toThrow(
      /--data-dir selects the embedded database, but DATABASE_URL selects a server/,
    );
  });

  it('gives sslmode its libpq meaning (no node-postgres warning), unless the URL already chose', () => {
    const chosen = selectStore(options(['--database-url', 'postgres://h/db?sslmode=require']), {});
    expect(chosen.kind === 'postgres' && new URL(chosen.url).searchParams.get('uselibpqcompat')).toBe('true');
    const explicit = selectStore(
      options(['--database-url', 'postgres://h/db?sslmode=require&uselibpqcompat=false']),
      {},
    );
    expect(explicit.kind === 'postgres' && new URL(explicit.url).searchParams.get('uselibpqcompat')).toBe('false');
    const plain = selectStore(options(['--database-url', 'postgres://h/db']), {});
    expect(plain.kind === 'postgres' && plain.url).toBe('postgres://h/db');
  });

  it('reads host, port, database and role from the URL, with libpq defaults, and hides the password', () => {
    expect(databaseTarget('postgres://app:s3cret@db.internal:6543/accounts?sslmode=verify-full', 'x')).toEqual({
      host: 'db.internal',
      port: '6543',
      database: 'accounts',
      user: 'app',
      redacted: 'postgres://app:***@db.internal:6543/accounts?sslmode=verify-full',
      sslmode: 'verify-full',
    });
    expect(databaseTarget('postgres://app@db', 'x')).toMatchObject({ port: '5432', database: 'app' });
  });
});

describe('cli: database errors in words', () => {
  const target = databaseTarget('postgres://app:s3cret@db.internal:5432/accounts?sslmode=verify-full', 'x');
  const failure = (cause: unknown) => new StoreUnavailableError('postgres failed during readiness', { cause });
  const explain = (cause: unknown) => explainDatabaseError(failure(cause), target);
  const sqlError = (code: string) => Object.assign(new Error('driver text'), { code });

  it('says what is wrong and what to do, by SQLSTATE and by socket error', () => {
    expect(explain(sqlError('3D000'))?.code).toBe('database_not_found');
    expect(explain(sqlError('28P01'))?.message).toBe(
      'password authentication failed for role "app" at db.internal:5432; check the password in the URL',
    );
    expect(explain(sqlError('42501'))?.code).toBe('permission_denied');
    expect(explain(sqlError('57P03'))?.message).toMatch(/starting up or shutting down/);
    expect(explain(sqlError('53300'))?.message).toMatch(/no connection slots left/);
    expect(explain(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }))?.message).toMatch(
      /^timed out connecting to db\.internal:5432/,
    );
    const aggregate = Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {});
    expect(explain(aggregate)?.message).toMatch(/^nothing accepts connections at db\.internal:5432/);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(explain(tls)?.message).toMatch(/TLS certificate that was not accepted \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  });

  it('leaves other errors to the engine: a missing schema, a conflict, an unknown SQLSTATE', () => {
    const missing = new SchemaNotReadyError('objects missing; run migrate()', { cause: sqlError('42P01') });
    expect(explainDatabaseError(missing, target)).toBeNull();
    expect(explain(sqlError('XX000'))).toBeNull();
  });

  it('never quotes the password', () => {
    for (const code of ['3D000', '28000', '28P01', '42501', 'ECONNREFUSED', 'ENOTFOUND']) {
      expect(explain(sqlError(code))?.message ?? '').not.toContain('s3cret');
    }
  });
});

describe('cli: failures in words', () => {
  it('names the option a field came from, and says how to migrate with the same store options', () => {
    expect(describeFailure(new ValidationError('displayName', 'must not be empty'), { storeFlags: '' })).toEqual({
      code: 'invalid_input',
      exitCode: 1,
      field: '--display-name',
      message: '--display-name: must not be empty',
    });
    const notReady = describeFailure(new SchemaNotReadyError('store schema is at version 0; run migrate()'), {
      storeFlags: ' --schema accounts',
    });
    expect(notReady).toMatchObject({
      exitCode: 3,
      message: 'store schema is at version 0; run: user-engine migrate --schema accounts',
    });
    expect(describeFailure(new TypeError('boom'), { storeFlags: '' })).toMatchObject({
      code: 'internal_error',
      exitCode: 1,
    });
  });

  it('withholds every personal value typed on the command line, but not generated ids or schema names', () => {
    const id = '01900000-0000-7000-8000-000000000000';
    const line = readCommandLine([
      'users',
      'link-identity',
      id,
      '--identity',
      'github:ada-secret',
      '--schema',
      'accounts',
      '--database-url',
      'postgres://app:s3cret@h/db',
    ]);
    const hide = withheld(line);
    expect(hide(`user ${id} in accounts: github:ada-secret, ada-secret, s3cret`)).toBe(
      `user ${id} in accounts: [withheld], [withheld], [withheld]`,
    );
    expect(withheld(readCommandLine(['users', 'get', 'ada@example.com']))('no user with id ada@example.com')).toBe(
      'no user with id [withheld]',
    );
  });
});

describe('cli: migrate --print-sql', () => {
  it('prints each DDL version as exactly the script user-engine migrate runs, with its recorded checksum', () => {
    const printed = printableMigrations('accounts', versionsAfter(0));
    expect(printed.map((p) => p.version)).toEqual(SCHEMA_VERSIONS.map((v) => v.version));
    for (const p of printed) {
      const version = SCHEMA_VERSIONS.find((v) => v.version === p.version);
      expect(p.checksum).toBe(version?.checksum);
      if (version?.rekey !== undefined) continue;
      const migration = POSTGRES_MIGRATIONS.find((m) => m.version === p.version);
      expect(p.kind).toBe('script');
      if (migration && version) expect(p.sql).toBe(migrationScript(schemaName('accounts'), migration, version));
    }
  });

  it('prints a data step as one guarded statement: it checks for records to re-key before it records the version', () => {
    const step = printableMigrations('accounts', versionsAfter(0)).find((p) => p.kind === 'guarded-data-step');
    const version = SCHEMA_VERSIONS.find((v) => v.rekey !== undefined);
    expect(step?.version).toBe(version?.version);
    const sql = step?.sql ?? '';
    expect(sql.trim().startsWith('DO $user_engine$')).toBe(true);
    expect(sql.trim().endsWith('$user_engine$;')).toBe(true);
    expect(sql.indexOf('RAISE EXCEPTION')).toBeLessThan(sql.indexOf('INSERT INTO "accounts".schema_migrations'));
    expect(sql).toContain(`kind = '${version?.rekey?.kind}'`);
    expect(sql).toContain(`'${version?.checksum}'`);
  });

  it('prints nothing after the latest version', () => {
    expect(versionsAfter(SCHEMA_VERSIONS.length)).toEqual([]);
  });
});

describe('cli: covers the library', () => {
  it('every public engine method has a command (a new engine command without one fails here)', () => {
    const named: Record<string, string> = {
      registerUser: 'users register',
      updateProfile: 'users update',
      suspendUser: 'users suspend',
      reactivateUser: 'users reactivate',
      eraseUser: 'users erase',
      getUser: 'users get',
      findUserByEmail: 'users find',
      findUserByHandle: 'users find',
      findUserByIdentity: 'users find',
      listUsers: 'users list',
    };
    const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const commands = new Set(COMMANDS.map((c) => c.name));
    const methods = Object.getOwnPropertyNames(UserEngine.prototype).filter(
      (name) => name !== 'constructor' && name !== 'store',
    );
    expect(methods.length).toBeGreaterThanOrEqual(18);
    for (const method of methods) expect(commands, method).toContain(named[method] ?? `users ${kebab(method)}`);
  });
});

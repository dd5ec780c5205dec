import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryUserEngineStore } from '../memory/memory-store.js';
import { fromNodePostgres, type NodePostgresQueryable, type PostgresConnection } from '../postgres/connection.js';
import { PostgresUserEngineStore } from '../postgres/postgres-store.js';
import type { UserEngineStore } from '../store/store.js';
import { acquireEmbeddedLock } from './embedded-lock.js';
import { CliError } from './errors.js';
import type { StoreSelection } from './store-selection.js';

/**
 * How a command uses the embedded database (a server or --memory is used as given):
 * - `create`: creates it when missing, and migrates it (commands that write new data);
 * - `migrate`: creates it when missing, and leaves migrating to the command (`migrate`);
 * - `existing`: refuses when it is missing (reads, and writes about users that would have to exist), migrates it;
 * - `probe`: refuses when it is missing and changes nothing (`status`, `migrate --print-sql`).
 */
export type EmbeddedUse = 'create' | 'migrate' | 'existing' | 'probe';

const CREATES: ReadonlySet<EmbeddedUse> = new Set(['create', 'migrate']);
const MIGRATES: ReadonlySet<EmbeddedUse> = new Set(['create', 'existing']);

export interface OpenedStore {
  store: UserEngineStore;
  /** Closes what the tool opened: the pool, the PGlite instance, the directory lock. */
  close(): Promise<void>;
}

/** Lines for a person waiting (`creating the embedded database…`); the caller decides where they go. */
export type Progress = (line: string) => void;

/** The drivers are optional peer dependencies, loaded only here, only when needed. */
async function loadDriver<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError('driver_missing', `${purpose} needs the ${name} package: npm install ${name}`);
    }
    throw error;
  }
}

interface PgModule {
  default: {
    Pool: new (config: { connectionString: string; max: number; connectionTimeoutMillis: number }) => PgPool;
  };
}
interface PgPool extends NodePostgresQueryable {
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
interface PgliteModule {
  PGlite: { create(dataDir: string): Promise<PgliteInstance> };
}
interface PgliteInstance extends PostgresConnection {
  close(): Promise<void>;
}

/** A connection attempt that hangs is reported after this long instead of never (node-postgres waits forever by default). */
const CONNECT_TIMEOUT_MS = 10_000;

/** Where an embedded database keeps its Postgres data directory. */
export function embeddedDataDir(dir: string): string {
  return join(dir, 'pgdata');
}

/** True when `dir` holds an embedded database (PGlite writes PG_VERSION when it creates one). */
export function embeddedDatabaseExists(dir: string): boolean {
  return existsSync(join(embeddedDataDir(dir), 'PG_VERSION'));
}

/**
 * Opens the chosen store. A server is never migrated implicitly; the
 * embedded database is when `use` says so; --memory always is.
 */
export async function openStore(selection: StoreSelection, use: EmbeddedUse, progress: Progress): Promise<OpenedStore> {
  const schema = selection.schema === undefined ? {} : { schema: selection.schema };
  switch (selection.kind) {
    case 'memory': {
      const store = new InMemoryUserEngineStore();
      // A throw-away store is always migrated, except for `migrate` itself to do.
      if (use !== 'migrate') await store.migrate();
      return { store, close: () => store.close() };
    }
    case 'postgres': {
      const pg = await loadDriver<PgModule>('pg', 'a database URL');
      const pool = new pg.default.Pool({
        connectionString: selection.url,
        max: 4,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      pool.on('error', () => {}); // an idle client dying is reported by the next call, as store_unavailable
      const store = new PostgresUserEngineStore({
        connection: fromNodePostgres(pool, { prepare: selection.prepare }),
        ...schema,
        ...(selection.timeoutMs === undefined ? {} : { timeoutMs: selection.timeoutMs }),
      });
      return {
        store,
        close: async () => {
          await store.close();
          await pool.end();
        },
      };
    }
    case 'embedded':
      return openEmbedded(selection.dir, schema, use, progress);
  }
}

async function openEmbedded(
  dir: string,
  schema: { schema?: string },
  use: EmbeddedUse,
  progress: Progress,
): Promise<OpenedStore> {
  if (!CREATES.has(use) && !embeddedDatabaseExists(dir)) throw noEmbeddedDatabase(dir);
  const { PGlite } = await loadDriver<PgliteModule>('@electric-sql/pglite', 'the embedded database');
  const lock = await acquireEmbeddedLock(dir);
  try {
    // Checked again under the lock: another process may have created it meanwhile.
    const creating = !embeddedDatabaseExists(dir);
    if (creating) progress(`creating the embedded database in ${dir} (first run; this takes a few seconds)`);
    const db = await openPglite(PGlite, embeddedDataDir(dir));
    const store = new PostgresUserEngineStore({ connection: db, ...schema });
    const close = async () => {
      try {
        await store.close();
        // Always close: an open PGlite keeps Postgres' timers running, and after an unclean
        // shutdown they re-arm forever, so the process would never exit.
        await db.close();
      } finally {
        lock.release();
      }
    };
    try {
      if (MIGRATES.has(use)) await store.migrate();
    } catch (error) {
      await close();
      throw error;
    }
    return { store, close };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function openPglite(PGlite: PgliteModule['PGlite'], dataDir: string): Promise<PgliteInstance> {
  try {
    return await PGlite.create(dataDir);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error);
    throw new CliError(
      'store_unavailable',
      `cannot open the embedded database in ${dataDir}: ${reason || 'PGlite failed to start'}`,
      { cause: error },
    );
  }
}

export function noEmbeddedDatabase(dir: string): CliError {
  return new CliError(
    'no_embedded_database',
    `no embedded database in ${dir} (nothing was created there: run this where the database is, or give --data-dir DIR, --database-url URL or --memory)`,
  );
}

import { resolve } from 'node:path';
import { InMemoryUserEngineStore } from '../memory/memory-store.js';
import { fromNodePostgres, type NodePostgresQueryable, type PostgresConnection } from '../postgres/connection.js';
import { PostgresUserEngineStore } from '../postgres/postgres-store.js';
import type { UserEngineStore } from '../store/store.js';
import { acquireEmbeddedLock } from './embedded-lock.js';

export interface StoreSelection {
  databaseUrl: string | undefined;
  memory: boolean;
  schema: string | undefined;
  dataDir: string;
}

export interface OpenedStore {
  store: UserEngineStore;
  /** Human-readable: where the data lives. */
  description: string;
  kind: 'postgres' | 'embedded' | 'memory';
  /** Closes what the tool opened: the pool, the PGlite instance, the directory lock. */
  close(): Promise<void>;
}

/** A one-line error for a missing optional peer dependency. */
export class MissingDriverError extends Error {}

/** The drivers are optional peer dependencies, loaded only here, only when needed. */
async function loadDriver<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDriverError(`${purpose} needs the ${name} package: npm install ${name}`);
    }
    throw error;
  }
}

interface PgModule {
  default: { Pool: new (config: { connectionString: string; max: number }) => PgPool };
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

/**
 * `--database-url` / `DATABASE_URL`: a node-postgres pool the tool opens and
 * ends; never migrated implicitly. `--memory`: a throw-away store. Otherwise
 * the embedded default: PGlite in `--data-dir` (./.user-engine), locked to
 * this process and migrated automatically.
 */
export async function openStore(selection: StoreSelection): Promise<OpenedStore> {
  const schemaOption = selection.schema === undefined ? {} : { schema: selection.schema };
  if (selection.memory) {
    const store = new InMemoryUserEngineStore();
    await store.migrate();
    return { store, kind: 'memory', description: 'in-memory store (discarded on exit)', close: () => store.close() };
  }
  if (selection.databaseUrl !== undefined && selection.databaseUrl !== '') {
    const pg = await loadDriver<PgModule>('pg', 'a database URL');
    const pool = new pg.default.Pool({ connectionString: selection.databaseUrl, max: 4 });
    pool.on('error', () => {}); // an idle client dying is reported by the next call, as store_unavailable
    const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), ...schemaOption });
    return {
      store,
      kind: 'postgres',
      description: `PostgreSQL ${redactUrl(selection.databaseUrl)}, schema ${store.schema}`,
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  }
  const dir = resolve(selection.dataDir);
  const { PGlite } = await loadDriver<PgliteModule>('@electric-sql/pglite', 'the embedded database');
  const lock = await acquireEmbeddedLock(dir);
  try {
    const db = await PGlite.create(resolve(dir, 'pgdata'));
    const store = new PostgresUserEngineStore({ connection: db, ...schemaOption });
    await store.migrate();
    return {
      store,
      kind: 'embedded',
      description: `embedded PGlite database in ${dir}, schema ${store.schema}`,
      close: async () => {
        try {
          await store.close();
          await db.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Never print a password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

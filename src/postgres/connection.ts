import { createHash } from 'node:crypto';

/**
 * What the Postgres store needs from a connection, written from the calls it
 * makes and nothing more. No driver type is imported on purpose: the store
 * must work with whatever the application already uses, and the package must
 * not depend on any driver. A node-postgres `Pool` or `Client` and a PGlite
 * instance fit this shape as they are; postgres.js fits through
 * `fromPostgresJs(sql)`.
 *
 * @example
 * import pg from 'pg';
 * const store = new PostgresUserEngineStore({ connection: new pg.Pool({ connectionString }) });
 */
export interface PostgresConnection {
  /**
   * Runs one statement with `$1`-style bind parameters and resolves to its
   * rows. Called concurrently: a pool spreads the calls, a single client or
   * PGlite queues them, and either is fine because every store operation is
   * one statement.
   */
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /**
   * Like `query`, but gives up after `timeoutMs` and frees the connection the
   * statement was running on (the driver wrappers below do: node-postgres
   * through `query_timeout`, postgres.js by cancelling). Optional: without it
   * the store still fails a call at its `timeoutMs`, but the connection may
   * stay busy until the server answers.
   */
  queryWithTimeout?(text: string, params: unknown[], timeoutMs: number): Promise<{ rows: Record<string, unknown>[] }>;
  /**
   * Runs a script of several statements with no parameters, as one implicit
   * transaction (the simple query protocol). Optional: without it the store
   * sends the script through `query(script)` with no parameters, which
   * node-postgres runs on the simple protocol. PGlite's `exec` fits.
   */
  exec?(script: string): Promise<unknown>;
}

/** Options of the driver wrappers. */
export interface DriverWrapperOptions {
  /**
   * Run the store's statements as named prepared statements (parsed and
   * planned once per connection). Default true. Turn it off behind a
   * transaction-mode pooler such as PgBouncer before 1.21, where one client's
   * named statement may land on another client's server connection.
   */
  prepare?: boolean;
}

/** The part of a postgres.js `sql` instance `fromPostgresJs` uses. */
export interface PostgresJsSql {
  unsafe(query: string, parameters?: never[], options?: { prepare?: boolean }): PostgresJsPendingQuery;
}

/** A postgres.js pending query: a promise of rows that can be switched to the simple protocol, or cancelled. */
export interface PostgresJsPendingQuery extends PromiseLike<readonly Record<string, unknown>[]> {
  simple(): PromiseLike<unknown>;
  cancel?(): unknown;
}

/**
 * Adapts a postgres.js `sql` instance (from `postgres(url)`, or a reserved or
 * transaction-scoped `sql`) to `PostgresConnection`. The store never ends it.
 * Statements are prepared by default; behind a transaction-mode pooler
 * (PgBouncer before 1.21) pass `{ prepare: false }`. The store's `timeoutMs`
 * cancels a statement that did not answer in time.
 *
 * @example
 * import postgres from 'postgres';
 * const store = new PostgresUserEngineStore({ connection: fromPostgresJs(postgres(url)) });
 */
export function fromPostgresJs(sql: PostgresJsSql, options: DriverWrapperOptions = {}): PostgresConnection {
  const prepare = options.prepare ?? true;
  return {
    async query(text, params = []) {
      // The store's statements are a handful of fixed texts: prepared once per connection, reused.
      return { rows: [...(await sql.unsafe(text, params as never[], { prepare }))] };
    },
    async queryWithTimeout(text, params, timeoutMs) {
      const pending = sql.unsafe(text, params as never[], { prepare });
      // Past the deadline, ask the server to cancel the statement, so the connection is free again.
      const timer = setTimeout(() => pending.cancel?.(), timeoutMs);
      try {
        return { rows: [...(await pending)] };
      } finally {
        clearTimeout(timer);
      }
    },
    async exec(script) {
      return sql.unsafe(script).simple();
    },
  };
}

/** The part of a node-postgres `Pool`, `Client` or `PoolClient` that `fromNodePostgres` uses. */
export interface NodePostgresQueryable {
  query(config: {
    name?: string;
    text: string;
    values?: unknown[];
    query_timeout?: number;
  }): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Adapts a node-postgres `Pool`, `Client` or `PoolClient` so that every
 * statement the store sends runs as a named prepared statement: parsed and
 * planned once per connection, then only bound and executed. The store's
 * statements are a handful of fixed texts, so the names stay few. A pg
 * connection also works as it is, unprepared; this is the faster way.
 * Behind a transaction-mode pooler (PgBouncer before 1.21), pass
 * `{ prepare: false }`. The store's `timeoutMs` becomes pg's `query_timeout`,
 * so a `Pool` discards the connection of a call that did not answer.
 *
 * @example
 * const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool) });
 * const behindPgBouncer = new PostgresUserEngineStore({ connection: fromNodePostgres(pool, { prepare: false }) });
 */
export function fromNodePostgres(pg: NodePostgresQueryable, options: DriverWrapperOptions = {}): PostgresConnection {
  const prepare = options.prepare ?? true;
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      name = `user_engine_${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    query: (text, params = []) => pg.query({ ...(prepare ? { name: nameOf(text) } : {}), text, values: params }),
    // pg errors the call at query_timeout; a Pool then discards that connection rather than reuse it.
    queryWithTimeout: (text, params, timeoutMs) =>
      pg.query({ ...(prepare ? { name: nameOf(text) } : {}), text, values: params, query_timeout: timeoutMs }),
    // Scripts (migrations) go unnamed on the simple protocol, which runs several statements as one transaction.
    exec: (script) => pg.query({ text: script }),
  };
}

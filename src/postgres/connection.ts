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
   * Runs a script of several statements with no parameters, as one implicit
   * transaction (the simple query protocol). Optional: without it the store
   * sends the script through `query(script)` with no parameters, which
   * node-postgres runs on the simple protocol. PGlite's `exec` fits.
   */
  exec?(script: string): Promise<unknown>;
}

/** The part of a postgres.js `sql` instance `fromPostgresJs` uses. */
export interface PostgresJsSql {
  unsafe(query: string, parameters?: never[]): PostgresJsPendingQuery;
}

/** A postgres.js pending query: a promise of rows that can be switched to the simple protocol. */
export interface PostgresJsPendingQuery extends PromiseLike<readonly Record<string, unknown>[]> {
  simple(): PromiseLike<unknown>;
}

/**
 * Adapts a postgres.js `sql` instance (from `postgres(url)`, or a reserved or
 * transaction-scoped `sql`) to `PostgresConnection`. The store never ends it.
 *
 * @example
 * import postgres from 'postgres';
 * const store = new PostgresUserEngineStore({ connection: fromPostgresJs(postgres(url)) });
 */
export function fromPostgresJs(sql: PostgresJsSql): PostgresConnection {
  return {
    async query(text, params = []) {
      const rows = await sql.unsafe(text, params as never[]);
      return { rows: [...rows] };
    },
    async exec(script) {
      return sql.unsafe(script).simple();
    },
  };
}

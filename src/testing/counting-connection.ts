import type { PostgresConnection } from '../postgres/connection.js';

/** What a statement the Postgres store sends is for. */
export type StatementKind = 'write-batch' | 'apply-commit' | 'read' | 'script';

/**
 * Wraps a connection and counts what goes over the wire, by kind: reads,
 * commits on each path, and scripts (migrations). The benchmark's
 * "statements per operation" and the soak's per-path commit counts come from
 * it; it also answers "how many round trips does this cost?" in your own tests.
 *
 * @example
 * const counting = new CountingConnection(pool);
 * const store = new PostgresUserEngineStore({ connection: counting });
 * // ... run commands ...
 * console.log(counting.total, counting.byKind['write-batch']);
 */
export class CountingConnection implements PostgresConnection {
  /** Statements sent so far, by what they are for. */
  readonly byKind: Record<StatementKind, number> = { 'write-batch': 0, 'apply-commit': 0, read: 0, script: 0 };
  readonly #inner: PostgresConnection;
  readonly exec?: (script: string) => Promise<unknown>;

  constructor(inner: PostgresConnection) {
    this.#inner = inner;
    const exec = inner.exec?.bind(inner);
    if (exec !== undefined) {
      this.exec = (script: string) => {
        this.byKind.script += 1;
        return exec(script);
      };
    }
  }

  /** Every statement and script sent so far. */
  get total(): number {
    return Object.values(this.byKind).reduce((sum, n) => sum + n, 0);
  }

  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    this.byKind[statementKind(text)] += 1;
    return this.#inner.query(text, params);
  }
}

/** Classifies a statement the Postgres store sends. */
export function statementKind(text: string): StatementKind {
  if (text.startsWith('/* user-engine commit:')) return 'write-batch';
  if (text.includes('.apply_commit(')) return 'apply-commit';
  // A migration script sent through query() when the connection has no exec().
  if (text.startsWith('SELECT pg_advisory_xact_lock(hashtextextended(')) return 'script';
  return 'read';
}

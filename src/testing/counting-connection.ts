import type { PostgresConnection } from '../src/postgres/index.js';

/** Wraps a connection and counts what goes over the wire: the benchmark's statements per operation. */
export class CountingConnection implements PostgresConnection {
  statements = 0;
  readonly #inner: PostgresConnection;
  readonly exec?: (script: string) => Promise<unknown>;

  constructor(inner: PostgresConnection) {
    this.#inner = inner;
    const exec = inner.exec?.bind(inner);
    if (exec !== undefined) {
      this.exec = (script: string) => {
        this.statements += 1;
        return exec(script);
      };
    }
  }

  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    this.statements += 1;
    return this.#inner.query(text, params);
  }
}

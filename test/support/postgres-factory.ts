import type { UserEngineStore } from '../../src/index.js';
import type { PostgresConnection } from '../../src/postgres/index.js';
import type { StoreFactory } from '../../src/testing/index.js';

let counter = 0;

/** A unique schema name per test case, so cases (and parallel files) never share tables. */
export function freshSchemaName(prefix: string): string {
  counter += 1;
  return `ue_${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A store factory over one connection: each case gets its own schema, dropped
 * afterwards, and a schema backdoor that writes migration rows directly.
 */
export function postgresFactory<S extends UserEngineStore>(
  prefix: string,
  connection: PostgresConnection,
  makeStore: (connection: PostgresConnection, schema: string) => S,
): StoreFactory<S> {
  return async () => {
    const schema = freshSchemaName(prefix);
    return {
      store: makeStore(connection, schema),
      teardown: async () => {
        await connection.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
      writeAppliedSchemaVersion: async (row) => {
        await connection.query(
          `INSERT INTO "${schema}".schema_migrations (version, name, checksum, breaking) VALUES ($1, $2, $3, $4)
           ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, breaking = excluded.breaking`,
          [row.version, row.name, row.checksum, row.breaking],
        );
      },
    };
  };
}

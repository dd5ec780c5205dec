import type { UserEngineStore } from '../../src/index.js';
import { type CommitPath, type PostgresConnection, PostgresUserEngineStore } from '../../src/postgres/index.js';
import { type StoreFactory, scratchSchemaName } from '../../src/testing/index.js';
import { sqlInvariantFailures } from './sql-invariants.js';

/** A unique schema name per test case, so cases (and parallel files) never share tables. */
export const freshSchemaName = scratchSchemaName;

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
      openOlder: (schemaVersions) => new PostgresUserEngineStore({ connection, schema, schemaVersions }),
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

/** Opens a dedicated connection inside a transaction the test begins, for `callerTransaction`. */
export type OpenCallerConnection = () => Promise<{
  connection: PostgresConnection;
  /** Sends COMMIT or ROLLBACK and gives the connection back. */
  end(statement: 'COMMIT' | 'ROLLBACK'): Promise<void>;
}>;

/**
 * A factory for the race suite: the store on commit path `paths[0]`, its peer
 * on `paths[1]` over the same schema, optionally the application's own
 * transaction on a dedicated connection, and — before the schema is dropped —
 * the engine's invariants checked again with SQL straight from the tables.
 */
export function raceFactory(
  prefix: string,
  connection: PostgresConnection,
  paths: readonly [CommitPath, CommitPath],
  options: { openCaller?: OpenCallerConnection; sqlCheck?: boolean } = {},
): StoreFactory {
  return async () => {
    const schema = freshSchemaName(prefix);
    const make = (on: PostgresConnection, commitPath: CommitPath) =>
      new PostgresUserEngineStore({ connection: on, schema, commitPath });
    const openCaller = options.openCaller;
    return {
      store: make(connection, paths[0]),
      openPeer: () => make(connection, paths[1]),
      ...(openCaller === undefined
        ? {}
        : {
            callerTransaction: async () => {
              const caller = await openCaller();
              let ended = false;
              const end = async (statement: 'COMMIT' | 'ROLLBACK') => {
                if (ended) return;
                ended = true;
                await caller.end(statement);
              };
              return {
                store: make(caller.connection, paths[0]),
                commit: () => end('COMMIT'),
                rollback: () => end('ROLLBACK'),
              };
            },
          }),
      teardown: async () => {
        try {
          if (options.sqlCheck === true) {
            const failures = await sqlInvariantFailures(connection, schema);
            if (failures.length > 0) throw new Error(`SQL invariants broken: ${failures.join('; ')}`);
          }
        } finally {
          await connection.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      },
    };
  };
}

// The `user-engine/postgres` entry point: the Postgres store, the connection
// contract it runs on and the driver wrappers. No driver is imported.
export {
  fromNodePostgres,
  fromPostgresJs,
  type NodePostgresQueryable,
  type PostgresConnection,
  type PostgresJsPendingQuery,
  type PostgresJsSql,
} from './connection.js';
export { type CommitPath, type PostgresStoreOptions, PostgresUserEngineStore } from './postgres-store.js';

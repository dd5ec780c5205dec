// The `user-engine/postgres` entry point: the Postgres store and its connection contract. No driver is imported.
export {
  fromNodePostgres,
  fromPostgresJs,
  type NodePostgresQueryable,
  type PostgresConnection,
  type PostgresJsPendingQuery,
  type PostgresJsSql,
} from './connection.js';
export { mapPostgresError } from './error-mapper.js';
export {
  MIGRATIONS_TABLE,
  migrationChecksum,
  migrationScript,
  POSTGRES_MIGRATIONS,
  type PostgresMigration,
} from './migrations/index.js';
export { type CommitPath, type PostgresStoreOptions, PostgresUserEngineStore } from './postgres-store.js';
export { type SchemaName, schemaName } from './sql/schema-name.js';

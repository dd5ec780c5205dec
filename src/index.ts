// The `user-engine` entry point: re-exports only.

export * from './engine/index.js';
export * from './memory/index.js';
export {
  InvalidStateError,
  NotFoundError,
  SchemaNotReadyError,
  StoreUnavailableError,
  UniquenessError,
  UserEngineError,
  type UserEngineErrorCode,
  ValidationError,
  VersionConflictError,
} from './store/errors.js';
export {
  canonicalJson,
  canonicalJsonObject,
  type JsonObject,
  type JsonPrimitive,
  type JsonValue,
  MAX_JSON_BYTES,
  MAX_JSON_DEPTH,
} from './store/json.js';
export { compareCodePoints, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './store/queries.js';
export {
  deserializeRecord,
  normalizeInteger,
  normalizeTimestamp,
  type RecordRow,
  recordKey,
  type SerializedRecord,
  type StoreRecord,
  serializeRecord,
} from './store/record.js';
export {
  type AppliedSchemaVersion,
  assessReadiness,
  LATEST_SCHEMA_VERSION,
  type MigrationReport,
  planMigration,
  SCHEMA_VERSIONS,
  type SchemaReadiness,
  type SchemaVersion,
} from './store/schema.js';
export type * from './store/store.js';
export {
  type CommitBatch,
  type PendingAudit,
  type PendingOutbox,
  type PendingWrite,
  type RecordCheck,
  UnitOfWork,
} from './store/unit-of-work.js';

// The `user-engine` entry point, for application code: the engine, its
// commands' types, the errors, the store contract and the in-memory store.
// Store authors: `user-engine/store`. Postgres: `user-engine/postgres`.
// Test suites and fakes: `user-engine/testing`.

export {
  type CommandContext,
  type ProfilePatch,
  type RegisterUserInput,
  type RetryInfo,
  type RetryPolicy,
  UserEngine,
  type UserEngineOptions,
  type UserPage,
} from './engine/engine.js';
export type { LinkedIdentity, User, UserStatus } from './engine/user.js';
export { LIMITS } from './engine/validation.js';
export { InMemoryDatabase, type InMemoryStoreOptions, InMemoryUserEngineStore } from './memory/memory-store.js';
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
export type { JsonObject, JsonPrimitive, JsonValue } from './store/json.js';
export type { StoreRecord } from './store/record.js';
export { LATEST_SCHEMA_VERSION, type MigrationReport, type SchemaReadiness } from './store/schema.js';
export type {
  AuditAppend,
  AuditEntry,
  AuditQuery,
  IndexedPair,
  OutboxEnqueue,
  OutboxMessage,
  OutboxQuery,
  RecordCounts,
  RecordPage,
  RecordWrite,
  StoreTransaction,
  UserEngineStore,
} from './store/store.js';

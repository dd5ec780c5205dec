// The `user-engine` entry point, for application code: the engine, its
// commands' types, the errors, the store contract and the in-memory store,
// the event catalogue and the outbox relay.
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
export {
  type AnyUserEvent,
  parseUserEvent,
  type SessionEvent,
  type SessionTopic,
  USER_EVENT_TOPICS,
  type UserChangeTopic,
  type UserEvent,
  type UserEventTopic,
  type UserField,
} from './engine/events.js';
export type { LinkedIdentity, User, UserStatus } from './engine/user.js';
export { LIMITS } from './engine/validation.js';
export { InMemoryDatabase, type InMemoryStoreOptions, InMemoryUserEngineStore } from './memory/memory-store.js';
export type { LagSummary } from './outbox/lag.js';
export {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type PublishContext,
  type PublishFunction,
  type RelayCounts,
  type RelayErrorContext,
  type RelayStats,
  retryDelayMs,
} from './outbox/relay.js';
export type {
  ClaimedMessage,
  ClaimRequest,
  ClaimToken,
  DeliveryFailure,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryState,
  DeliveryStats,
  OutboxDelivery,
} from './store/delivery.js';
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

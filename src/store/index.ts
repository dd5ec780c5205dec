// The `user-engine/store` entry point, for authors of a store: the pieces the
// shipped stores are built from, so that a new store behaves as they do — the
// unit of work and its commit batch, record serialization and canonical JSON,
// schema versions with readiness and migration planning, query limits, and the
// way to report a conflict. Application code needs none of it.

export { conflictOnKey } from './errors.js';
export {
  canonicalJson,
  canonicalJsonObject,
  copyJsonObject,
  MAX_JSON_BYTES,
  MAX_JSON_DEPTH,
  parseJsonObject,
} from './json.js';
export {
  compareCodePoints,
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  normalizeAuditQuery,
  normalizeIndexLookup,
  normalizeOutboxQuery,
  normalizeRecordPage,
} from './queries.js';
export {
  assertId,
  assertKind,
  deserializeRecord,
  normalizeInteger,
  normalizeTimestamp,
  type RecordRow,
  recordKey,
  type SerializedRecord,
  serializeRecord,
} from './record.js';
export { planRekey, type RekeyPlan, type RekeyRecord, type RekeyStep } from './rekey.js';
export {
  type AppliedSchemaVersion,
  assessReadiness,
  notReadyError,
  planMigration,
  SCHEMA_VERSIONS,
  type SchemaVersion,
} from './schema.js';
export { caseInsensitiveKey } from './text-key.js';
export {
  type CommitBatch,
  hasEffects,
  type PendingAudit,
  type PendingOutbox,
  type PendingWrite,
  type RecordCheck,
  UnitOfWork,
} from './unit-of-work.js';

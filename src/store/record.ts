import { StoreUnavailableError, ValidationError } from './errors.js';
import { canonicalJsonObject, type JsonObject, parseJsonObject, unstorableTextReason } from './json.js';

/**
 * One stored record. Every store keeps its records in this generic shape;
 * the engine's users and uniqueness index entries are records of different kinds.
 */
export interface StoreRecord<T extends JsonObject = JsonObject> {
  /** Record kind, `/^[a-z][a-z0-9-]{0,62}$/`, e.g. `user` or `user-email`. */
  kind: string;
  /** 1..256 characters, no control characters. */
  id: string;
  /** `recordKey(kind, id)`. */
  key: string;
  /** 1 when created, +1 on every update. */
  version: number;
  data: T;
  /** ISO-8601 UTC with milliseconds. */
  createdAt: string;
  updatedAt: string;
}

/** A record as stores keep it: `data` as canonical JSON text. */
export interface SerializedRecord {
  kind: string;
  id: string;
  key: string;
  version: number;
  data: string;
  createdAt: string;
  updatedAt: string;
}

const KIND_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
export const MAX_ID_LENGTH = 256;

/** Throws `ValidationError` unless `kind` matches `/^[a-z][a-z0-9-]{0,62}$/`. */
export function assertKind(kind: unknown, field = 'kind'): asserts kind is string {
  if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) {
    throw new ValidationError(field, 'must match /^[a-z][a-z0-9-]{0,62}$/');
  }
}

/** True when `id` is a valid record id (see `assertId`). */
export function isValidId(id: unknown): id is string {
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    id.length <= MAX_ID_LENGTH &&
    !CONTROL_CHARACTERS.test(id) &&
    unstorableTextReason(id) === null
  );
}

/** Throws `ValidationError` unless `id` is 1..256 characters with no control character, NUL or lone surrogate. */
export function assertId(id: unknown, field = 'id'): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new ValidationError(field, `must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
  if (CONTROL_CHARACTERS.test(id)) throw new ValidationError(field, 'must not contain control characters');
  const reason = unstorableTextReason(id);
  if (reason !== null) throw new ValidationError(field, reason);
}

/**
 * The deterministic, unique key of a record: `${kind}:${id}`. Kinds cannot
 * contain `:`, so the first colon always separates kind from id.
 *
 * @example recordKey('user', '0190a1b2-...') // 'user:0190a1b2-...'
 */
export function recordKey(kind: string, id: string): string {
  assertKind(kind);
  assertId(id);
  return `${kind}:${id}`;
}

/** Validates a record key given by a caller (e.g. an audit entry's `recordKey`). */
export function assertRecordKey(key: unknown, field = 'recordKey'): asserts key is string {
  if (typeof key !== 'string') throw new ValidationError(field, 'must be a record key string');
  const colon = key.indexOf(':');
  if (colon < 1) throw new ValidationError(field, 'must look like kind:id');
  assertKind(key.slice(0, colon), field);
  assertId(key.slice(colon + 1), field);
}

/** A record as stores keep it: `data` as canonical JSON text. Throws `ValidationError` for anything not plain JSON. */
export function serializeRecord(record: StoreRecord): SerializedRecord {
  const key = recordKey(record.kind, record.id);
  if (record.key !== key) throw new ValidationError('key', 'must equal recordKey(kind, id)');
  return {
    kind: record.kind,
    id: record.id,
    key,
    version: assertVersion(record.version, 'version'),
    data: canonicalJsonObject(record.data, 'data'),
    createdAt: normalizeTimestamp(record.createdAt, 'createdAt'),
    updatedAt: normalizeTimestamp(record.updatedAt, 'updatedAt'),
  };
}

/**
 * A row as a driver returns it. Drivers disagree on types: node-postgres
 * returns bigint columns as strings and timestamptz as `Date`, postgres.js and
 * PGlite may return parsed JSON or text. Every store reads through this.
 */
export interface RecordRow {
  kind: unknown;
  id: unknown;
  version: unknown;
  data: unknown;
  created_at?: unknown;
  updated_at?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
}

/**
 * A record from a stored row, whatever the driver handed back (timestamps as
 * `Date` or text, versions as number, string or bigint, data as text or a
 * parsed object). A row that does not parse is `store_unavailable`, never
 * the caller's `invalid_input`.
 */
export function deserializeRecord(row: RecordRow | SerializedRecord): StoreRecord {
  try {
    const kind = row.kind;
    const id = row.id;
    assertKind(kind);
    assertId(id);
    const r = row as RecordRow;
    return {
      kind,
      id,
      key: `${kind}:${id}`,
      version: normalizeInteger(row.version, 'version'),
      data: parseJsonObject(row.data, 'data'),
      createdAt: normalizeTimestamp(r.createdAt ?? r.created_at, 'createdAt'),
      updatedAt: normalizeTimestamp(r.updatedAt ?? r.updated_at, 'updatedAt'),
    };
  } catch (cause) {
    // A row that does not parse is a store fault, not the caller's bad input.
    throw new StoreUnavailableError(`store returned a malformed record row: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function assertVersion(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(field, 'must be a positive integer');
  }
  return value;
}

/** Sequence numbers and versions: from number, bigint or decimal string (node-postgres int8). */
export function normalizeInteger(value: unknown, field: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value);
  else throw new ValidationError(field, `is not an integer (${typeof value})`);
  if (!Number.isSafeInteger(n)) throw new ValidationError(field, 'is not a safe integer');
  return n;
}

/** Timestamps: from `Date` or any string `Date` parses, to ISO-8601 UTC with milliseconds. */
const ISO_MILLISECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An ISO-8601 UTC timestamp with milliseconds from a `Date` or text, as every driver may return it. */
export function normalizeTimestamp(value: unknown, field: string): string {
  // Already in the one form we return (stores select it that way): only check it is a real instant.
  if (typeof value === 'string' && ISO_MILLISECONDS.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime()) && date.toISOString() === value) return value;
    throw new ValidationError(field, 'is not a valid timestamp');
  }
  let date: Date;
  if (value instanceof Date) date = value;
  else if (typeof value === 'string') {
    // Postgres text output ("2026-01-02 03:04:05.678+00") is not ISO; make it so.
    date = new Date(/^\d{4}-\d\d-\d\d \d/.test(value) ? normalizePostgresTimestampText(value) : value);
  } else throw new ValidationError(field, `is not a timestamp (${typeof value})`);
  if (Number.isNaN(date.getTime())) throw new ValidationError(field, 'is not a valid timestamp');
  return date.toISOString();
}

function normalizePostgresTimestampText(value: string): string {
  const iso = value.replace(' ', 'T');
  // "+00" offsets lack minutes, which Date.parse rejects.
  return /[+-]\d\d$/.test(iso) ? `${iso}:00` : iso;
}

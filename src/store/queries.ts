import { ValidationError } from './errors.js';
import { assertId, assertKind, assertRecordKey } from './record.js';
import type { AuditQuery, OutboxQuery, RecordPage } from './store.js';

/** The page size of `listRecords`, `readAudit` and `pendingOutbox` when none is given. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The largest page size a query accepts. */
export const MAX_PAGE_LIMIT = 1000;

function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

function afterSeq(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError('afterSeq', 'must be a non-negative integer');
  }
  return value;
}

function optionsObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'must be an object');
  }
  return value as Record<string, unknown>;
}

export interface NormalizedRecordPage {
  kind: string;
  after: string | null;
  limit: number;
}

/** Validates a `listRecords` kind and page (limits 1..1000, default 100); what every store pages by. */
export function normalizeRecordPage(kind: unknown, page: RecordPage | undefined): NormalizedRecordPage {
  assertKind(kind);
  const options = optionsObject(page, 'page');
  const after = options.after;
  if (after !== undefined) assertId(after, 'after');
  return { kind, after: after ?? null, limit: pageLimit(options.limit) };
}

export interface IndexLookup {
  index: { kind: string; id: string };
  target: { kind: string; field: string };
}

/** Validates the arguments of `getIndexedRecord`. */
export function normalizeIndexLookup(index: unknown, target: unknown): IndexLookup {
  const i = optionsObject(index, 'index');
  const t = optionsObject(target, 'target');
  assertKind(i.kind, 'index.kind');
  assertId(i.id, 'index.id');
  assertKind(t.kind, 'target.kind');
  if (typeof t.field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(t.field)) {
    throw new ValidationError('target.field', 'must be a field name of letters, digits and _');
  }
  return { index: { kind: i.kind, id: i.id }, target: { kind: t.kind, field: t.field } };
}

export interface NormalizedAuditQuery {
  afterSeq: number;
  limit: number;
  recordKey: string | null;
}

/** Validates a `readAudit` query and fills in its defaults. */
export function normalizeAuditQuery(query: AuditQuery | undefined): NormalizedAuditQuery {
  const options = optionsObject(query, 'query');
  const recordKey = options.recordKey;
  if (recordKey !== undefined) assertRecordKey(recordKey);
  return { afterSeq: afterSeq(options.afterSeq), limit: pageLimit(options.limit), recordKey: recordKey ?? null };
}

export interface NormalizedOutboxQuery {
  afterSeq: number;
  limit: number;
}

/** Validates a `pendingOutbox` query and fills in its defaults. */
export function normalizeOutboxQuery(query: OutboxQuery | undefined): NormalizedOutboxQuery {
  const options = optionsObject(query, 'query');
  return { afterSeq: afterSeq(options.afterSeq), limit: pageLimit(options.limit) };
}

/**
 * Orders strings by Unicode code point, which is how Postgres orders UTF-8
 * text under `COLLATE "C"`. JavaScript's default sort compares UTF-16 code
 * units and disagrees for characters above U+FFFF, so the in-memory store
 * sorts with this to page exactly like Postgres.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800..DFFF) encode code points above U+FFFF, which sort after U+E000..FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

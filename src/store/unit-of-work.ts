import { randomUUID } from 'node:crypto';
import { conflictOnKey, UserEngineError, ValidationError } from './errors.js';
import { canonicalJsonObject, copyJsonObject } from './json.js';
import { assertId, assertKind, assertRecordKey, type StoreRecord } from './record.js';
import type { AuditAppend, OutboxEnqueue, RecordWrite, StoreTransaction } from './store.js';

/**
 * Everything a transaction asks a store to apply, validated and serialized.
 * Both stores apply a batch all-or-nothing: the in-memory store in one
 * synchronous step, the Postgres store in one statement.
 */
export interface CommitBatch {
  /** Records read but not written: each must still be at `version` (0 = still absent). */
  checks: RecordCheck[];
  writes: PendingWrite[];
  audit: PendingAudit[];
  outbox: PendingOutbox[];
}

/** False for a transaction that only read: it has nothing to apply, and commits without touching the store. */
export function hasEffects(batch: CommitBatch): boolean {
  return batch.writes.length > 0 || batch.audit.length > 0 || batch.outbox.length > 0;
}

/** A record a transaction read but did not write: it must still be at `version` (0 = still absent) at commit. */
export interface RecordCheck {
  kind: string;
  id: string;
  key: string;
  version: number;
}

/** A validated, serialized write of a commit batch. */
export interface PendingWrite {
  kind: string;
  id: string;
  key: string;
  /** The version the record must have in the store at commit (0 = absent). */
  expectedVersion: number;
  /** The version after this commit; 0 = deleted. */
  version: number;
  /** Canonical JSON, or null for a delete. */
  data: string | null;
  /** False when the record is (re)created by this commit, so it gets a fresh `createdAt`. */
  keepCreatedAt: boolean;
}

/** A validated audit entry of a commit batch, detail as canonical JSON text. */
export interface PendingAudit {
  id: string;
  actor: string;
  action: string;
  recordKey: string | null;
  detail: string;
}

/** A validated outbox message of a commit batch, payload as canonical JSON text. */
export interface PendingOutbox {
  id: string;
  topic: string;
  key: string;
  payload: string;
}

const NAME_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

function assertName(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new ValidationError(field, 'must match /^[a-z][a-z0-9_.-]{0,63}$/');
  }
}

function assertExpectedVersion(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError('expectedVersion', 'must be a non-negative integer (0 = create)');
  }
}

function objectArgument(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new ValidationError(field, 'must be an object');
  return value as Record<string, unknown>;
}

interface Slot {
  kind: string;
  id: string;
  /** What the store held when first seen (null = absent); undefined if never read. */
  base: StoreRecord | null | undefined;
  write: PendingWrite | undefined;
}

/**
 * The buffering half of a store transaction, shared by every store: it
 * validates and serializes each call as it happens (so bad input throws from
 * the call that made it, inside `work`), remembers the version of everything
 * read, and turns the lot into a `CommitBatch`.
 */
export class UnitOfWork implements StoreTransaction {
  readonly #read: (kind: string, id: string) => Promise<StoreRecord | null>;
  readonly #slots = new Map<string, Slot>();
  readonly #audit: PendingAudit[] = [];
  readonly #outbox: PendingOutbox[] = [];
  #finished = false;

  constructor(read: (kind: string, id: string) => Promise<StoreRecord | null>) {
    this.#read = read;
  }

  async get(kind: string, id: string): Promise<StoreRecord | null> {
    this.#assertOpen();
    assertKind(kind);
    assertId(id);
    const key = `${kind}:${id}`;
    const known = this.#slots.get(key);
    if (known?.write !== undefined) return provisional(known);
    if (known !== undefined && known.base !== undefined) return known.base === null ? null : cloneRecord(known.base);
    const record = await this.#read(kind, id);
    // A concurrent get of the same key may have landed first; the first read defines the read set.
    const slot = this.#slots.get(key) ?? { kind, id, base: undefined, write: undefined };
    if (slot.base === undefined) slot.base = record === null ? null : cloneRecord(record);
    this.#slots.set(key, slot);
    if (slot.write !== undefined) return provisional(slot);
    return record;
  }

  put(write: RecordWrite): void {
    this.#assertOpen();
    const w = objectArgument(write, 'write');
    assertKind(w.kind);
    assertId(w.id);
    assertExpectedVersion(w.expectedVersion);
    const data = canonicalJsonObject(w.data, 'data');
    this.#buffer(w.kind, w.id, w.expectedVersion, data);
  }

  delete(kind: string, id: string, expectedVersion: number): void {
    this.#assertOpen();
    assertKind(kind);
    assertId(id);
    assertExpectedVersion(expectedVersion);
    if (expectedVersion === 0)
      throw new ValidationError('expectedVersion', 'a delete needs the version of an existing record');
    this.#buffer(kind, id, expectedVersion, null);
  }

  appendAudit(entry: AuditAppend): void {
    this.#assertOpen();
    const e = objectArgument(entry, 'entry');
    assertId(e.actor, 'actor');
    assertName(e.action, 'action');
    if (e.recordKey !== null) assertRecordKey(e.recordKey);
    const detail = canonicalJsonObject(e.detail, 'detail');
    this.#audit.push({ id: randomUUID(), actor: e.actor, action: e.action, recordKey: e.recordKey, detail });
  }

  enqueueOutbox(message: OutboxEnqueue): void {
    this.#assertOpen();
    const m = objectArgument(message, 'message');
    assertName(m.topic, 'topic');
    assertId(m.key, 'key');
    const payload = canonicalJsonObject(m.payload, 'payload');
    this.#outbox.push({ id: randomUUID(), topic: m.topic, key: m.key, payload });
  }

  /** Ends the unit: later calls on this transaction throw. Returns what to apply. */
  finish(): CommitBatch {
    this.#finished = true;
    const checks: RecordCheck[] = [];
    const writes: PendingWrite[] = [];
    for (const [key, slot] of this.#slots) {
      const write = slot.write;
      if (write !== undefined && !(write.expectedVersion === 0 && write.version === 0)) writes.push(write);
      else if (write !== undefined) checks.push({ kind: slot.kind, id: slot.id, key, version: 0 });
      else if (slot.base !== undefined) {
        checks.push({ kind: slot.kind, id: slot.id, key, version: slot.base?.version ?? 0 });
      }
    }
    return { checks, writes, audit: this.#audit, outbox: this.#outbox };
  }

  /** Ends the unit without applying anything (the work function threw). */
  abandon(): void {
    this.#finished = true;
  }

  #buffer(kind: string, id: string, expectedVersion: number, data: string | null): void {
    const key = `${kind}:${id}`;
    const slot = this.#slots.get(key) ?? { kind, id, base: undefined, write: undefined };
    const current =
      slot.write !== undefined ? slot.write.version : slot.base === undefined ? undefined : (slot.base?.version ?? 0);
    // When the outcome is already known, fail at the call rather than at commit.
    if (current !== undefined && current !== expectedVersion) {
      throw conflictOnKey(key);
    }
    const previous = slot.write;
    const storeVersion = previous?.expectedVersion ?? expectedVersion;
    const alive = data !== null;
    const keepCreatedAt = alive && expectedVersion > 0 && (previous === undefined ? true : previous.keepCreatedAt);
    slot.write = {
      kind,
      id,
      key,
      expectedVersion: storeVersion,
      version: alive ? expectedVersion + 1 : 0,
      data,
      keepCreatedAt,
    };
    this.#slots.set(key, slot);
  }

  #assertOpen(): void {
    if (this.#finished) {
      throw new UserEngineError('invalid_state', 'this transaction has already finished; use the store, not a kept tx');
    }
  }
}

function cloneRecord(record: StoreRecord): StoreRecord {
  return { ...record, data: copyJsonObject(JSON.stringify(record.data)) };
}

function provisional(slot: Slot): StoreRecord | null {
  const write = slot.write;
  if (write === undefined || write.data === null) return null;
  const now = new Date().toISOString();
  const createdAt = write.keepCreatedAt && slot.base ? slot.base.createdAt : now;
  return {
    kind: slot.kind,
    id: slot.id,
    key: write.key,
    version: write.version,
    data: copyJsonObject(write.data),
    createdAt,
    updatedAt: now,
  };
}

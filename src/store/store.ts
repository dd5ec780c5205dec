import type { OutboxDelivery } from './delivery.js';
import type { JsonObject } from './json.js';
import type { StoreRecord } from './record.js';
import type { MigrationReport, SchemaReadiness } from './schema.js';

/**
 * The storage contract every store implements. The engine talks only to
 * this; `InMemoryUserEngineStore` and `PostgresUserEngineStore` implement it,
 * and the conformance harness in `user-engine/testing` proves they agree.
 *
 * @example
 * const store: UserEngineStore = new InMemoryUserEngineStore();
 * await store.migrate();
 * await store.transaction(async (tx) => {
 *   const current = await tx.get('note', 'n1');
 *   tx.put({ kind: 'note', id: 'n1', data: { text: 'hi' }, expectedVersion: current?.version ?? 0 });
 *   tx.appendAudit({ actor: 'admin', action: 'note.written', recordKey: 'note:n1', detail: {} });
 * });
 */
export interface UserEngineStore {
  /** `'memory'`, `'postgres'`, or a third-party store's name. */
  readonly adapter: string;
  /** Where the store's schema stands against the running code. Never throws for a not-ready schema. */
  readiness(): Promise<SchemaReadiness>;
  /** Applies pending schema versions; idempotent; refuses a store newer than the code with breaking changes. */
  migrate(): Promise<MigrationReport>;
  /**
   * Runs `work` as one unit: reads are immediate, writes are buffered and
   * applied atomically when `work` resolves, with optimistic concurrency on
   * every record written and every record read. If `work` throws, nothing is
   * applied and the error comes out unchanged.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** One record by kind and id, or null. */
  getRecord(kind: string, id: string): Promise<StoreRecord | null>;
  /**
   * Optional: reads the record that an index record points at — the index
   * record `index`, whose data field `target.field` holds the id of a record
   * of kind `target.kind` — in one read. Null when either is missing or the
   * field is not a string. Callers without it (the engine included) fall
   * back to two `getRecord` calls; stores offer it to save a round trip.
   *
   * @example store.getIndexedRecord?.({ kind: 'user-email', id: 'ada@example.com' }, { kind: 'user', field: 'userId' })
   */
  getIndexedRecord?(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<StoreRecord | null>;
  /**
   * Optional: like `getIndexedRecord`, but returns the index record too —
   * for callers that need what the index record itself holds (the Auth.js
   * adapter's session record: its expiry, and the user it points at) — in
   * one read. Null when either is missing or the field is not a string.
   * Callers without it fall back to two `getRecord` calls.
   *
   * @example store.getIndexedPair?.({ kind: 'authjs-session', id: tokenHash }, { kind: 'user', field: 'userId' })
   */
  getIndexedPair?(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<IndexedPair | null>;
  /** Records of one kind by `id` ascending (code point order), keyset-paged after `after`. */
  listRecords(kind: string, page?: RecordPage): Promise<StoreRecord[]>;
  /** Audit entries in commit order (`seq` ascending), after `afterSeq`, at most `limit` (default 100, at most 1000). */
  readAudit(query?: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Outbox messages not yet delivered (pending or claimed by a relay), in
   * commit order (`seq` ascending), after `afterSeq`, at most `limit`
   * (default 100, at most 1000).
   */
  pendingOutbox(query?: OutboxQuery): Promise<OutboxMessage[]>;
  /**
   * Optional: delivery of the outbox by relays — claims with leases,
   * acknowledgements, retries, dead letters (see `OutboxDelivery`). Both
   * shipped stores offer it; `createOutboxRelay` needs it.
   */
  readonly delivery?: OutboxDelivery;
  /** Numbers only: no keys, ids or data. */
  recordCounts(): Promise<RecordCounts>;
  /** Releases only what the store itself opened; later calls fail with `store_unavailable`. */
  close(): Promise<void>;
}

/**
 * What a store hands a `transaction` work function: reads that see the
 * transaction's own writes, and buffered writes, audit entries and outbox
 * messages that apply together when the work resolves — or not at all.
 */
export interface StoreTransaction {
  /** Reads a record, seeing this transaction's own buffered writes. */
  get(kind: string, id: string): Promise<StoreRecord | null>;
  /** Buffers a create (`expectedVersion: 0`) or an update of the record at `expectedVersion`. */
  put(write: RecordWrite): void;
  /** Buffers a delete of the record at `expectedVersion`. */
  delete(kind: string, id: string, expectedVersion: number): void;
  /** Buffers an audit entry, appended at commit. */
  appendAudit(entry: AuditAppend): void;
  /** Buffers an outbox message, enqueued at commit. */
  enqueueOutbox(message: OutboxEnqueue): void;
}

/** What `getIndexedPair` returns: the index record and the record it points at. */
export interface IndexedPair {
  index: StoreRecord;
  target: StoreRecord;
}

/** A buffered create or update of one record (`StoreTransaction.put`). */
export interface RecordWrite {
  kind: string;
  id: string;
  data: JsonObject;
  /** 0 = the record must not exist yet. */
  expectedVersion: number;
}

/** A buffered audit entry (`StoreTransaction.appendAudit`): ids, versions and field names — never personal values. */
export interface AuditAppend {
  actor: string;
  /** `/^[a-z][a-z0-9_.-]{0,63}$/`, e.g. `user.registered`. */
  action: string;
  recordKey: string | null;
  detail: JsonObject;
}

/** A buffered outbox message (`StoreTransaction.enqueueOutbox`), delivered by a relay after commit. */
export interface OutboxEnqueue {
  /** `/^[a-z][a-z0-9_.-]{0,63}$/`, e.g. `user.registered`. */
  topic: string;
  /** Partition / aggregate key, e.g. the user id. */
  key: string;
  payload: JsonObject;
}

/** A keyset page of `listRecords`: records with an id after `after`, ascending. */
export interface RecordPage {
  after?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

/** Which audit entries `readAudit` returns: after a sequence number, optionally of one record. */
export interface AuditQuery {
  afterSeq?: number;
  /** 1..1000, default 100. */
  limit?: number;
  recordKey?: string;
}

/** Which outbox messages `pendingOutbox` returns: after a sequence number. */
export interface OutboxQuery {
  afterSeq?: number;
  /** 1..1000, default 100. */
  limit?: number;
}

/** One committed audit entry; `seq` increases in commit order. */
export interface AuditEntry {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  recordKey: string | null;
  detail: JsonObject;
}

/** One committed outbox message; `seq` increases in commit order. `key` is the partition key (the user id). */
export interface OutboxMessage {
  seq: number;
  id: string;
  topic: string;
  key: string;
  payload: JsonObject;
  createdAt: string;
}

/** Redacted counts (`recordCounts`): numbers only, the same for the same history on every store. */
export interface RecordCounts {
  /** Records per kind, keys sorted, kinds with no records omitted. */
  records: Record<string, number>;
  audit: number;
  /** Outbox messages not yet delivered: pending, or claimed by a relay (dead ones are not counted). */
  outboxPending: number;
}

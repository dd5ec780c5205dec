import { conflictOnKey, StoreUnavailableError } from '../store/errors.js';
import { copyJsonObject } from '../store/json.js';
import {
  compareCodePoints,
  normalizeAuditQuery,
  normalizeIndexLookup,
  normalizeOutboxQuery,
  normalizeRecordPage,
} from '../store/queries.js';
import { assertId, assertKind, type SerializedRecord, type StoreRecord } from '../store/record.js';
import { planRekey, type RekeyStep } from '../store/rekey.js';
import {
  type AppliedSchemaVersion,
  assessReadiness,
  type MigrationReport,
  notReadyError,
  planMigration,
  SCHEMA_VERSIONS,
  type SchemaReadiness,
  type SchemaVersion,
} from '../store/schema.js';
import type {
  AuditEntry,
  AuditQuery,
  OutboxMessage,
  OutboxQuery,
  RecordCounts,
  RecordPage,
  StoreTransaction,
  UserEngineStore,
} from '../store/store.js';
import { type CommitBatch, hasEffects, UnitOfWork } from '../store/unit-of-work.js';

interface StoredAudit {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  recordKey: string | null;
  detail: string;
}

interface StoredOutbox {
  seq: number;
  id: string;
  topic: string;
  key: string;
  payload: string;
  createdAt: string;
}

/**
 * The tables an in-memory store works on. Several stores may share one
 * database, as several processes share one Postgres database (tests use this
 * to stand for a deploy of newer or older code against the same data).
 */
export class InMemoryDatabase {
  /** Rows by kind, then id: data kept as canonical JSON text, never as live objects. */
  readonly records = new Map<string, Map<string, SerializedRecord>>();
  readonly audit: StoredAudit[] = [];
  readonly outbox: StoredOutbox[] = [];
  nextSeq = { audit: 1, outbox: 1 };
  readonly #schemaVersions: AppliedSchemaVersion[] = [];
  #schemaRevision = 0;

  /** The applied schema versions, as a store's migrations table would hold them. */
  get schemaVersions(): readonly AppliedSchemaVersion[] {
    return this.#schemaVersions;
  }

  /** Bumped on every change to `schemaVersions`, so stores can cache their readiness. */
  get schemaRevision(): number {
    return this.#schemaRevision;
  }

  /** Inserts or replaces a schema version row (migrate uses it; tests use it to stand for another deploy). */
  writeAppliedSchemaVersion(row: AppliedSchemaVersion): void {
    const at = this.#schemaVersions.findIndex((v) => v.version === row.version);
    if (at >= 0) this.#schemaVersions.splice(at, 1, { ...row });
    else this.#schemaVersions.push({ ...row });
    this.#schemaRevision += 1;
  }
}

export interface InMemoryStoreOptions {
  /** The tables to work on; a new empty database by default. */
  database?: InMemoryDatabase;
  /** The schema versions this "code" knows; `SCHEMA_VERSIONS` by default. For tests of rolling deploys. */
  schemaVersions?: readonly SchemaVersion[];
  /** Commit timestamps; `() => new Date()` by default. */
  clock?: () => Date;
}

/**
 * A store that keeps everything in process memory, with the exact semantics
 * of the Postgres store: schema versions, buffered unit of work, optimistic
 * concurrency with read-set validation, serialized rows. For tests, demos and
 * single-process tools; nothing survives the process.
 *
 * @example
 * const store = new InMemoryUserEngineStore();
 * await store.migrate();
 */
export class InMemoryUserEngineStore implements UserEngineStore {
  readonly adapter = 'memory';
  readonly #db: InMemoryDatabase;
  readonly #versions: readonly SchemaVersion[];
  readonly #clock: () => Date;
  #closed = false;
  #readyAtRevision = -1;

  constructor(options: InMemoryStoreOptions = {}) {
    this.#db = options.database ?? new InMemoryDatabase();
    this.#versions = options.schemaVersions ?? SCHEMA_VERSIONS;
    this.#clock = options.clock ?? (() => new Date());
  }

  async readiness(): Promise<SchemaReadiness> {
    this.#assertOpen();
    return assessReadiness(this.#db.schemaVersions, this.#versions);
  }

  async migrate(): Promise<MigrationReport> {
    this.#assertOpen();
    const plan = planMigration(this.#db.schemaVersions, this.#versions);
    for (const version of plan) {
      if (version.rekey !== undefined) rekeyRecords(this.#db, version.version, version.rekey);
      const { version: number, name, checksum, breaking } = version;
      this.#db.writeAppliedSchemaVersion({ version: number, name, checksum, breaking });
    }
    return {
      applied: plan.map((v) => v.version),
      currentVersion: assessReadiness(this.#db.schemaVersions, this.#versions).currentVersion,
    };
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.#assertReady();
    const unit = new UnitOfWork(async (kind, id) => this.#read(kind, id));
    let result: T;
    try {
      result = await work(unit);
    } catch (error) {
      unit.abandon();
      throw error;
    }
    const batch = unit.finish();
    if (!hasEffects(batch)) return result;
    this.#assertReady();
    const failed = applyCommitBatch(this.#db, batch, this.#clock().toISOString());
    if (failed !== null) {
      throw conflictOnKey(failed.key);
    }
    return result;
  }

  async getRecord(kind: string, id: string): Promise<StoreRecord | null> {
    assertKind(kind);
    assertId(id);
    this.#assertReady();
    return this.#read(kind, id);
  }

  async getIndexedRecord(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<StoreRecord | null> {
    const { index: i, target: t } = normalizeIndexLookup(index, target);
    this.#assertReady();
    const row = this.#db.records.get(i.kind)?.get(i.id);
    if (row === undefined) return null;
    const pointer = (JSON.parse(row.data) as Record<string, unknown>)[t.field];
    return typeof pointer === 'string' ? this.#read(t.kind, pointer) : null;
  }

  async listRecords(kind: string, page?: RecordPage): Promise<StoreRecord[]> {
    const { after, limit } = normalizeRecordPage(kind, page);
    this.#assertReady();
    const rows = this.#db.records.get(kind);
    if (rows === undefined) return [];
    const ids = [...rows.keys()].filter((id) => after === null || compareCodePoints(id, after) > 0);
    ids.sort(compareCodePoints);
    return ids.slice(0, limit).map((id) => toRecord(rows.get(id) as SerializedRecord));
  }

  async readAudit(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = normalizeAuditQuery(query);
    this.#assertReady();
    const out: AuditEntry[] = [];
    for (const row of this.#db.audit) {
      if (row.seq <= q.afterSeq || (q.recordKey !== null && row.recordKey !== q.recordKey)) continue;
      out.push({ ...row, detail: copyJsonObject(row.detail) });
      if (out.length === q.limit) break;
    }
    return out;
  }

  async pendingOutbox(query?: OutboxQuery): Promise<OutboxMessage[]> {
    const q = normalizeOutboxQuery(query);
    this.#assertReady();
    const out: OutboxMessage[] = [];
    for (const row of this.#db.outbox) {
      if (row.seq <= q.afterSeq) continue;
      out.push({ ...row, payload: copyJsonObject(row.payload) });
      if (out.length === q.limit) break;
    }
    return out;
  }

  async recordCounts(): Promise<RecordCounts> {
    this.#assertReady();
    const records: Record<string, number> = {};
    for (const kind of [...this.#db.records.keys()].sort()) {
      const size = this.#db.records.get(kind)?.size ?? 0;
      if (size > 0) records[kind] = size;
    }
    return { records, audit: this.#db.audit.length, outboxPending: this.#db.outbox.length };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #read(kind: string, id: string): StoreRecord | null {
    this.#assertOpen();
    const row = this.#db.records.get(kind)?.get(id);
    return row === undefined ? null : toRecord(row);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('the in-memory store is closed');
  }

  #assertReady(): void {
    this.#assertOpen();
    // Readiness only changes when the schema rows do: check once per revision, not per call.
    if (this.#readyAtRevision === this.#db.schemaRevision) return;
    const readiness = assessReadiness(this.#db.schemaVersions, this.#versions);
    if (!readiness.ready) throw notReadyError(readiness);
    this.#readyAtRevision = this.#db.schemaRevision;
  }
}

/** A schema version's data step, in one synchronous step: every move, or (on a collision) none. */
function rekeyRecords(db: InMemoryDatabase, version: number, step: RekeyStep): void {
  const rows = db.records.get(step.kind);
  if (rows === undefined) return;
  const records = [...rows.values()].map((row) => {
    const owner = (JSON.parse(row.data) as Record<string, unknown>)[step.ownerField];
    return { id: row.id, owner: typeof owner === 'string' ? owner : null };
  });
  const { moves } = planRekey(step, version, records);
  for (const [from, to] of moves) {
    const row = rows.get(from) as SerializedRecord;
    rows.delete(from);
    rows.set(to, { ...row, id: to, key: `${step.kind}:${to}` });
  }
}

function toRecord(row: SerializedRecord): StoreRecord {
  return { ...row, data: copyJsonObject(row.data) };
}

/** The first expectation of a batch that did not hold. */
export interface FailedExpectation {
  /** 1-based position among the batch's checks, then its writes: the order the Postgres function reports. */
  position: number;
  key: string;
  expected: number;
  found: number;
}

/**
 * Applies a commit batch to an in-memory database: checks every expectation,
 * then writes everything, with no await in between, so it is atomic by
 * construction. Returns the first failed expectation (and applies nothing),
 * or null. Shared by the in-memory store and `FakePostgresConnection`.
 */
export function applyCommitBatch(db: InMemoryDatabase, batch: CommitBatch, at: string): FailedExpectation | null {
  let position = 0;
  for (const check of batch.checks) {
    position += 1;
    const found = db.records.get(check.kind)?.get(check.id)?.version ?? 0;
    if (found !== check.version) return { position, key: check.key, expected: check.version, found };
  }
  for (const write of batch.writes) {
    position += 1;
    const found = db.records.get(write.kind)?.get(write.id)?.version ?? 0;
    if (found !== write.expectedVersion) return { position, key: write.key, expected: write.expectedVersion, found };
  }
  for (const write of batch.writes) {
    let rows = db.records.get(write.kind);
    if (write.data === null) {
      rows?.delete(write.id);
      if (rows?.size === 0) db.records.delete(write.kind);
      continue;
    }
    if (rows === undefined) {
      rows = new Map();
      db.records.set(write.kind, rows);
    }
    const previous = rows.get(write.id);
    rows.set(write.id, {
      kind: write.kind,
      id: write.id,
      key: write.key,
      version: write.version,
      data: write.data,
      createdAt: write.keepCreatedAt && previous !== undefined ? previous.createdAt : at,
      updatedAt: at,
    });
  }
  for (const e of batch.audit) {
    db.audit.push({
      seq: db.nextSeq.audit++,
      id: e.id,
      at,
      actor: e.actor,
      action: e.action,
      recordKey: e.recordKey,
      detail: e.detail,
    });
  }
  for (const m of batch.outbox) {
    db.outbox.push({
      seq: db.nextSeq.outbox++,
      id: m.id,
      topic: m.topic,
      key: m.key,
      payload: m.payload,
      createdAt: at,
    });
  }
  return null;
}

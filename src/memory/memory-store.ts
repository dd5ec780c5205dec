import {
  type ClaimToken,
  normalizeClaimRequest,
  normalizeClaims,
  normalizeCutoff,
  normalizeDeliveryQuery,
  normalizeFailure,
  normalizeSeqs,
  type OutboxDelivery,
} from '../store/delivery.js';
import { conflictOnKey, StoreUnavailableError } from '../store/errors.js';
import { copyJsonObject } from '../store/json.js';
import { MemoryTables } from '../store/memory-tables.js';
import {
  normalizeAuditQuery,
  normalizeIndexLookup,
  normalizeOutboxQuery,
  normalizeRecordPage,
} from '../store/queries.js';
import { assertId, assertKind, type SerializedRecord, type StoreRecord } from '../store/record.js';
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
  IndexedPair,
  OutboxMessage,
  OutboxQuery,
  RecordCounts,
  RecordPage,
  StoreTransaction,
  UserEngineStore,
} from '../store/store.js';
import { hasEffects, UnitOfWork } from '../store/unit-of-work.js';

/** Reads a database's tables; set by `InMemoryDatabase`'s static block, used only by the store below. */
let tablesOf: (database: InMemoryDatabase) => MemoryTables;

/**
 * The tables an in-memory store works on, as an opaque handle. Several stores
 * may share one database, as several processes share one Postgres database
 * (tests use this to stand for another deploy, or for a peer on the same
 * data). Nothing outside the store can reach or mutate the rows.
 *
 * @example
 * const database = new InMemoryDatabase();
 * const a = new InMemoryUserEngineStore({ database });
 * const b = new InMemoryUserEngineStore({ database }); // sees what a commits
 */
export class InMemoryDatabase {
  readonly #tables = new MemoryTables();

  static {
    tablesOf = (database) => database.#tables;
  }

  /**
   * Inserts or replaces a schema version row, as a hand edit or another
   * deploy would: for tests of checksum drift and rolling deploys.
   */
  writeAppliedSchemaVersion(row: AppliedSchemaVersion): void {
    this.#tables.writeAppliedSchemaVersion(row);
  }
}

/** What `new InMemoryUserEngineStore(options)` takes; everything is optional. */
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
  readonly #db: MemoryTables;
  readonly #versions: readonly SchemaVersion[];
  readonly #clock: () => Date;
  #closed = false;
  #readyAtRevision = -1;

  constructor(options: InMemoryStoreOptions = {}) {
    this.#db = tablesOf(options.database ?? new InMemoryDatabase());
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
      if (version.rekey !== undefined) this.#db.rekey(version.version, version.rekey);
      this.#db.writeAppliedSchemaVersion(version);
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
    const failed = this.#db.apply(batch, this.#clock().toISOString());
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

  async getIndexedPair(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<IndexedPair | null> {
    const { index: i, target: t } = normalizeIndexLookup(index, target);
    this.#assertReady();
    const indexRecord = this.#read(i.kind, i.id);
    const pointer = indexRecord?.data[t.field];
    const targetRecord = typeof pointer === 'string' ? this.#read(t.kind, pointer) : null;
    return indexRecord === null || targetRecord === null ? null : { index: indexRecord, target: targetRecord };
  }

  async listRecords(kind: string, page?: RecordPage): Promise<StoreRecord[]> {
    const { after, limit } = normalizeRecordPage(kind, page);
    this.#assertReady();
    return this.#db.page(kind, after, limit).map(toRecord);
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
    for (const row of this.#db.undeliveredOutbox(q.afterSeq, q.limit)) {
      out.push({ ...row, payload: copyJsonObject(row.payload) });
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
    return { records, audit: this.#db.audit.length, outboxPending: this.#db.undelivered };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Outbox delivery on the in-memory tables; lease and retry times come from the store's clock. */
  readonly delivery: OutboxDelivery = {
    claim: async (request) => {
      const { relay, limit, leaseMs } = normalizeClaimRequest(request);
      this.#assertReady();
      return this.#db.claim(relay, limit, leaseMs, this.#clock().getTime());
    },
    acknowledge: async (claims) => {
      const tokens = normalizeClaims(claims);
      this.#assertReady();
      return this.#db.acknowledge(tokens, this.#clock().getTime());
    },
    fail: async (claim, failure) => {
      const [token] = normalizeClaims([claim]);
      const checked = normalizeFailure(failure);
      this.#assertReady();
      return this.#db.fail(token as ClaimToken, checked, this.#clock().getTime());
    },
    release: async (claims) => {
      const tokens = normalizeClaims(claims);
      this.#assertReady();
      return this.#db.release(tokens);
    },
    inspect: async (query) => {
      const { state, afterSeq, limit } = normalizeDeliveryQuery(query);
      this.#assertReady();
      return this.#db.inspect(state, afterSeq, limit);
    },
    replay: async (seqs) => {
      const checked = normalizeSeqs(seqs);
      this.#assertReady();
      return this.#db.replay(checked);
    },
    prune: async (request) => {
      const cutoff = normalizeCutoff(request);
      this.#assertReady();
      return this.#db.prune(cutoff);
    },
    stats: async () => {
      this.#assertReady();
      return this.#db.deliveryStats();
    },
  };

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

function toRecord(row: SerializedRecord): StoreRecord {
  return { ...row, data: copyJsonObject(row.data) };
}

import type { SerializedRecord } from './record.js';
import { planRekey, type RekeyStep } from './rekey.js';
import type { AppliedSchemaVersion } from './schema.js';
import { SortedIds } from './sorted-ids.js';
import type { CommitBatch } from './unit-of-work.js';

/** An audit entry as the tables keep it: detail as canonical JSON text. */
export interface StoredAudit {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  recordKey: string | null;
  detail: string;
}

/** An outbox message as the tables keep it: payload as canonical JSON text. */
export interface StoredOutbox {
  seq: number;
  id: string;
  topic: string;
  key: string;
  payload: string;
  createdAt: string;
}

/** The first expectation of a batch that did not hold. */
export interface FailedExpectation {
  /** 1-based position among the batch's checks, then its writes: the order the Postgres function reports. */
  position: number;
  key: string;
}

/**
 * The store's tables held in process memory — records by kind and id (data
 * as canonical JSON text, never live objects), the audit log, the outbox and
 * the applied schema versions — and the one way a commit is applied to them.
 * The in-memory store runs on them, and so does `FakePostgresConnection`,
 * which is why they live with the contract rather than with either.
 */
export class MemoryTables {
  readonly records = new Map<string, Map<string, SerializedRecord>>();
  readonly audit: StoredAudit[] = [];
  readonly outbox: StoredOutbox[] = [];
  /** Each kind's ids in code point order, for keyset pages. */
  readonly #order = new Map<string, SortedIds>();
  readonly #nextSeq = { audit: 1, outbox: 1 };
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

  /** Inserts or replaces a schema version row. */
  writeAppliedSchemaVersion(row: AppliedSchemaVersion): void {
    const copy = { version: row.version, name: row.name, checksum: row.checksum, breaking: row.breaking };
    const at = this.#schemaVersions.findIndex((v) => v.version === row.version);
    if (at >= 0) this.#schemaVersions.splice(at, 1, copy);
    else this.#schemaVersions.push(copy);
    this.#schemaRevision += 1;
  }

  /**
   * Applies a commit batch: checks every expectation, then writes
   * everything, with no await in between, so it is atomic by construction.
   * Returns the first failed expectation (and applies nothing), or null.
   */
  apply(batch: CommitBatch, at: string): FailedExpectation | null {
    let position = 0;
    for (const check of batch.checks) {
      position += 1;
      if (this.#versionOf(check.kind, check.id) !== check.version) return { position, key: check.key };
    }
    for (const write of batch.writes) {
      position += 1;
      if (this.#versionOf(write.kind, write.id) !== write.expectedVersion) return { position, key: write.key };
    }
    for (const write of batch.writes) {
      let rows = this.records.get(write.kind);
      if (write.data === null) {
        if (rows?.delete(write.id) === true) this.#orderOf(write.kind).delete(write.id);
        if (rows?.size === 0) this.records.delete(write.kind);
        continue;
      }
      if (rows === undefined) {
        rows = new Map();
        this.records.set(write.kind, rows);
      }
      const previous = rows.get(write.id);
      if (previous === undefined) this.#orderOf(write.kind).add(write.id);
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
      this.audit.push({ seq: this.#nextSeq.audit++, at, ...e });
    }
    for (const m of batch.outbox) {
      this.outbox.push({ seq: this.#nextSeq.outbox++, createdAt: at, ...m });
    }
    return null;
  }

  /** A schema version's data step, in one synchronous step: every move, or (on a collision) none. */
  rekey(version: number, step: RekeyStep): void {
    const rows = this.records.get(step.kind);
    if (rows === undefined) return;
    const { moves } = planRekey(step, version, this.rekeyRecords(step));
    const order = this.#orderOf(step.kind);
    for (const [from, to] of moves) {
      const row = rows.get(from) as SerializedRecord;
      rows.delete(from);
      order.delete(from);
      rows.set(to, { ...row, id: to, key: `${step.kind}:${to}` });
      order.add(to);
    }
  }

  /** The records a re-keying step plans from: ids and the owners their data names. */
  rekeyRecords(step: Pick<RekeyStep, 'kind' | 'ownerField'>): { id: string; owner: string | null }[] {
    return [...(this.records.get(step.kind)?.values() ?? [])].map((row) => {
      const owner = (JSON.parse(row.data) as Record<string, unknown>)[step.ownerField];
      return { id: row.id, owner: typeof owner === 'string' ? owner : null };
    });
  }

  /** Records of `kind` after `after` by id in code point order, at most `limit`. */
  page(kind: string, after: string | null, limit: number): SerializedRecord[] {
    const rows = this.records.get(kind);
    if (rows === undefined) return [];
    return this.#orderOf(kind)
      .after(after, limit)
      .map((id) => rows.get(id) as SerializedRecord);
  }

  #orderOf(kind: string): SortedIds {
    let order = this.#order.get(kind);
    if (order === undefined) {
      order = new SortedIds();
      this.#order.set(kind, order);
    }
    return order;
  }

  #versionOf(kind: string, id: string): number {
    return this.records.get(kind)?.get(id)?.version ?? 0;
  }
}

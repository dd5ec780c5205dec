import { randomUUID } from 'node:crypto';
import type {
  ClaimedMessage,
  ClaimToken,
  DeliveryFailure,
  DeliveryRecord,
  DeliveryState,
  DeliveryStats,
} from './delivery.js';
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

/** A message's delivery state, beside the message (see `OutboxDelivery`). */
interface DeliveryRow {
  state: DeliveryState;
  attempts: number;
  claim: string | null;
  relay: string | null;
  /** Epoch milliseconds: a claim holds until then. */
  leaseUntil: number;
  /** Epoch milliseconds: a pending message is not claimable before then. */
  nextAttemptAt: number;
  lastError: string | null;
  settledAt: string | null;
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
  /** Delivery state by outbox seq; every message has one from its commit on. */
  readonly #delivery = new Map<number, DeliveryRow>();
  /** Every outbox message before this index is delivered or dead: scans for work start here. */
  #settledPrefix = 0;
  /** Messages per delivery state. */
  readonly #perState: Record<DeliveryState, number> = { pending: 0, claimed: 0, delivered: 0, dead: 0 };
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
      const seq = this.#nextSeq.outbox++;
      this.outbox.push({ seq, createdAt: at, ...m });
      this.#delivery.set(seq, {
        state: 'pending',
        attempts: 0,
        claim: null,
        relay: null,
        leaseUntil: 0,
        nextAttemptAt: 0,
        lastError: null,
        settledAt: null,
      });
      this.#perState.pending += 1;
    }
    return null;
  }

  // ----- outbox delivery (the rules: OutboxDelivery in delivery.ts)

  /** Messages not yet delivered nor dead: what `recordCounts` calls pending. */
  get undelivered(): number {
    return this.#perState.pending + this.#perState.claimed;
  }

  /** Outbox messages not yet delivered nor dead, by seq, after `afterSeq`. */
  undeliveredOutbox(afterSeq: number, limit: number): StoredOutbox[] {
    const out: StoredOutbox[] = [];
    for (const message of this.#unsettledTail()) {
      if (message.seq <= afterSeq) continue;
      const state = this.#delivery.get(message.seq)?.state;
      if (state !== 'pending' && state !== 'claimed') continue;
      out.push(message);
      if (out.length === limit) break;
    }
    return out;
  }

  /**
   * Claims runs: for each key whose oldest unsettled message is claimable
   * and none of whose messages another relay holds, that message and the
   * key's later unsettled messages, oldest first, `limit` in all. A later message in
   * its backoff goes with its run: its key's order matters more than its wait.
   */
  claim(relay: string, limit: number, leaseMs: number, now: number): ClaimedMessage[] {
    const claimed: ClaimedMessage[] = [];
    /** Per key seen: true while its run is being taken, false once the key is blocked or its run ended. */
    const taking = new Map<string, boolean>();
    // A key with a message under a live claim is another relay's until that run settles, even if an
    // older message of it is pending (a replay).
    for (const message of this.#unsettledTail()) {
      const row = this.#delivery.get(message.seq) as DeliveryRow;
      if (row.state === 'claimed' && row.leaseUntil > now) taking.set(message.key, false);
    }
    const token = randomUUID();
    for (const message of this.#unsettledTail()) {
      if (claimed.length === limit) break;
      const row = this.#delivery.get(message.seq) as DeliveryRow;
      if (row.state !== 'pending' && row.state !== 'claimed') continue;
      const held = row.state === 'claimed' && row.leaseUntil > now;
      const state = taking.get(message.key);
      if (state === false) continue;
      if (state === undefined) {
        // The key's oldest unsettled message decides: claimable, or the key waits.
        const due = row.state === 'pending' ? row.nextAttemptAt <= now : !held;
        taking.set(message.key, due);
        if (!due) continue;
      } else if (held) {
        taking.set(message.key, false);
        continue;
      }
      this.#move(row, 'claimed');
      row.attempts += 1;
      row.claim = token;
      row.relay = relay;
      row.leaseUntil = now + leaseMs;
      claimed.push({
        seq: message.seq,
        id: message.id,
        topic: message.topic,
        key: message.key,
        payload: JSON.parse(message.payload),
        createdAt: message.createdAt,
        attempt: row.attempts,
        claim: row.claim,
      });
    }
    return claimed;
  }

  acknowledge(claims: readonly ClaimToken[], now: number): number {
    let n = 0;
    for (const token of claims) {
      const row = this.#held(token);
      if (row === undefined) continue;
      this.#settle(row, 'delivered', now);
      n += 1;
    }
    return n;
  }

  fail(token: ClaimToken, failure: DeliveryFailure, now: number): 'retry' | 'dead' | 'not_held' {
    const row = this.#held(token);
    if (row === undefined) return 'not_held';
    row.lastError = failure.error;
    if (row.attempts >= failure.maxAttempts) {
      this.#settle(row, 'dead', now);
      return 'dead';
    }
    this.#move(row, 'pending');
    row.claim = null;
    row.nextAttemptAt = now + failure.retryInMs;
    return 'retry';
  }

  release(claims: readonly ClaimToken[]): number {
    let n = 0;
    for (const token of claims) {
      const row = this.#held(token);
      if (row === undefined) continue;
      this.#move(row, 'pending');
      row.attempts -= 1;
      row.claim = null;
      row.nextAttemptAt = 0;
      n += 1;
    }
    return n;
  }

  inspect(state: DeliveryState, afterSeq: number, limit: number): DeliveryRecord[] {
    const out: DeliveryRecord[] = [];
    for (const message of this.outbox) {
      if (message.seq <= afterSeq) continue;
      const row = this.#delivery.get(message.seq) as DeliveryRow;
      if (row.state !== state) continue;
      out.push({
        seq: message.seq,
        id: message.id,
        topic: message.topic,
        key: message.key,
        state: row.state,
        attempts: row.attempts,
        lastError: row.lastError,
        createdAt: message.createdAt,
        settledAt: row.settledAt,
      });
      if (out.length === limit) break;
    }
    return out;
  }

  replay(seqs: readonly number[]): number {
    let n = 0;
    for (const seq of new Set(seqs)) {
      const row = this.#delivery.get(seq);
      if (row === undefined || (row.state !== 'dead' && row.state !== 'delivered')) continue;
      this.#move(row, 'pending');
      Object.assign(row, { attempts: 0, claim: null, relay: null, nextAttemptAt: 0, lastError: null, settledAt: null });
      this.#settledPrefix = 0;
      n += 1;
    }
    return n;
  }

  prune(cutoff: string): number {
    const before = this.outbox.length;
    const kept = this.outbox.filter((message) => {
      const row = this.#delivery.get(message.seq) as DeliveryRow;
      const prune = row.state === 'delivered' && (row.settledAt ?? '') < cutoff;
      if (prune) {
        this.#delivery.delete(message.seq);
        this.#perState.delivered -= 1;
      }
      return !prune;
    });
    this.outbox.splice(0, this.outbox.length, ...kept);
    this.#settledPrefix = 0;
    return before - kept.length;
  }

  deliveryStats(): DeliveryStats {
    let oldest: string | null = null;
    for (const message of this.#unsettledTail()) {
      const state = this.#delivery.get(message.seq)?.state;
      if (state === 'pending' || state === 'claimed') {
        oldest = message.createdAt;
        break;
      }
    }
    return { ...this.#perState, oldestUndeliveredAt: oldest };
  }

  /** The outbox from its first unsettled message on (advancing the settled prefix as it goes). */
  *#unsettledTail(): Generator<StoredOutbox> {
    while (this.#settledPrefix < this.outbox.length) {
      const state = this.#delivery.get((this.outbox[this.#settledPrefix] as StoredOutbox).seq)?.state;
      if (state !== 'delivered' && state !== 'dead') break;
      this.#settledPrefix += 1;
    }
    for (let i = this.#settledPrefix; i < this.outbox.length; i++) yield this.outbox[i] as StoredOutbox;
  }

  #held(token: ClaimToken): DeliveryRow | undefined {
    const row = this.#delivery.get(token.seq);
    return row !== undefined && row.state === 'claimed' && row.claim === token.claim ? row : undefined;
  }

  #move(row: DeliveryRow, state: DeliveryState): void {
    this.#perState[row.state] -= 1;
    this.#perState[state] += 1;
    row.state = state;
  }

  #settle(row: DeliveryRow, state: 'delivered' | 'dead', now: number): void {
    this.#move(row, state);
    row.claim = null;
    row.settledAt = new Date(now).toISOString();
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

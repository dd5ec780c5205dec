import type { CommitBatch } from '../../store/unit-of-work.js';
import type { SchemaName } from './schema-name.js';

/**
 * The whole commit of a store transaction, one statement: the function
 * installed by schema version 2 checks every expectation under per-key
 * advisory locks and applies everything, or returns the 1-based position of
 * the expectation that failed (0 = applied).
 */
export const applyCommitSql = (s: SchemaName) => `SELECT ${s.quoted}.apply_commit($1::text) AS failed`;

export interface CommitParams {
  params: unknown[];
  /** The record key behind each expectation position, to name a conflict. */
  expectedKeys: string[];
}

/**
 * Serializes a batch as the function's one text parameter. Record data is
 * already canonical JSON text and is spliced into the batch as it is, so no
 * value is parsed and re-serialized on the hot path; strings go through
 * JSON.stringify. The batch is a bind parameter like every other value.
 */
export function applyCommitParams(batch: CommitBatch, lockSpace: number): CommitParams {
  const q = JSON.stringify;
  const expect: string[] = [];
  const expectedKeys: string[] = [];
  for (const c of batch.checks) {
    expectedKeys.push(c.key);
    expect.push(
      `{"kind":${q(c.kind)},"id":${q(c.id)},"key":${q(c.key)},"version":${c.version},"ord":${expectedKeys.length}}`,
    );
  }
  const writes: string[] = [];
  for (const w of batch.writes) {
    expectedKeys.push(w.key);
    expect.push(
      `{"kind":${q(w.kind)},"id":${q(w.id)},"key":${q(w.key)},"version":${w.expectedVersion},"ord":${expectedKeys.length}}`,
    );
    const data = w.data === null ? '' : `,"data":${w.data}`;
    writes.push(
      `{"kind":${q(w.kind)},"id":${q(w.id)},"key":${q(w.key)},"expected":${w.expectedVersion},"version":${w.version},"keep":${w.keepCreatedAt}${data}}`,
    );
  }
  const audit = batch.audit.map(
    (a) =>
      `{"id":${q(a.id)},"actor":${q(a.actor)},"action":${q(a.action)},"key":${q(a.recordKey)},"detail":${a.detail}}`,
  );
  const outbox = batch.outbox.map(
    (o) => `{"id":${q(o.id)},"topic":${q(o.topic)},"key":${q(o.key)},"payload":${o.payload}}`,
  );
  const text = `{"lockSpace":${lockSpace},"expect":[${expect.join(',')}],"writes":[${writes.join(',')}],"audit":[${audit.join(',')}],"outbox":[${outbox.join(',')}]}`;
  return { params: [text], expectedKeys };
}

/**
 * The advisory-lock key space of one schema's record locks: a stable 32-bit
 * FNV-1a hash of the library and schema name, so two schemas (or an
 * application's own advisory locks in the two-key form) rarely share one.
 */
export function lockSpaceFor(schema: SchemaName): number {
  let hash = 0x811c9dc5;
  for (const char of `user-engine:records:${schema.name}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

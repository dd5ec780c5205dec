import type { CommitBatch } from '../../store/unit-of-work.js';
import type { SchemaName } from './schema-name.js';

/**
 * The whole commit of a store transaction, one statement: the function
 * installed by schema version 2 checks every expectation under per-key
 * advisory locks and applies everything, or returns the 1-based position of
 * the expectation that failed (0 = applied). Every parameter is cast, so
 * every driver binds the arrays the same way.
 */
export const applyCommitSql = (s: SchemaName) =>
  `SELECT ${s.quoted}.apply_commit($1::integer, $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::integer[], $8::integer[], $9::integer[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) AS failed`;

export interface CommitParams {
  params: unknown[];
  /** The record key behind each expectation position (checks, then writes), to name a conflict. */
  expectedKeys: string[];
}

/**
 * The batch as the function's parallel arrays of text and integers, with no
 * NULL elements (see the migration for why). Record data, audit details and
 * outbox payloads are already canonical JSON text and travel as they are;
 * a delete is ''. Every value is a bind parameter.
 */
export function applyCommitParams(batch: CommitBatch, lockSpace: number): CommitParams {
  const { checks, writes, audit, outbox } = batch;
  return {
    params: [
      lockSpace,
      checks.map((c) => c.kind),
      checks.map((c) => c.id),
      checks.map((c) => c.version),
      writes.map((w) => w.kind),
      writes.map((w) => w.id),
      writes.map((w) => w.expectedVersion),
      writes.map((w) => w.version),
      writes.map((w) => (w.keepCreatedAt ? 1 : 0)),
      writes.map((w) => w.data ?? ''),
      audit.map((a) => a.id),
      audit.map((a) => a.actor),
      audit.map((a) => a.action),
      audit.map((a) => a.recordKey ?? ''),
      audit.map((a) => a.detail),
      outbox.map((o) => o.id),
      outbox.map((o) => o.topic),
      outbox.map((o) => o.key),
      outbox.map((o) => o.payload),
    ],
    expectedKeys: [...checks.map((c) => c.key), ...writes.map((w) => w.key)],
  };
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

import { canonicalJson } from '../../store/json.js';
import type { CommitBatch } from '../../store/unit-of-work.js';
import type { SchemaName } from '../schema-name.js';
import { CommitDecodeError, type CommitStatement, decodeInteger, decodeText } from './commit-statement.js';

/**
 * The function path: a commit of any size, and the only path for a commit
 * that must re-check records it only read, as one call of `apply_commit`
 * (installed by schema version 2, given its current body by version 3; see
 * `migrations/003-exact-commit.ts`). It obeys the same rule as the
 * write-batch path — each write carries its expectation in the statement that
 * performs it — and holds each read-only check until the commit ends: a row
 * lock `FOR SHARE` on a record read at a version, a placeholder row inserted
 * and deleted for a record read as absent (a concurrent insert of that key
 * waits on it, as it would on any in-flight insert).
 *
 * The batch travels as parallel `text[]` and `integer[]` arrays without NULL
 * elements — the one array encoding node-postgres, postgres.js and PGlite
 * bind alike — so JSON goes as text (cast on the server), a delete has data
 * '', and an audit entry without a record key has ''. Every parameter is
 * cast, so every driver binds the arrays the same way.
 *
 * The first parameter, an advisory-lock key space, was used by version 2's
 * body; version 3 ignores it. It stays so that code from before version 3,
 * still running during a rolling deploy, calls the corrected body unchanged.
 */
export const applyCommitSql = (s: SchemaName) =>
  `SELECT ${s.quoted}.apply_commit($1::integer, $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::integer[], $8::integer[], $9::integer[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) AS failed`;

/** The batch as the function's parameters. Positions (the function's answer) count checks, then writes. */
export function applyCommitStatement(s: SchemaName, batch: CommitBatch): CommitStatement {
  const { checks, writes, audit, outbox } = batch;
  return {
    text: applyCommitSql(s),
    params: [
      0,
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
    keys: [...checks.map((c) => c.key), ...writes.map((w) => w.key)],
  };
}

/**
 * Reads the function's parameters back into the batch they carry, checking
 * each the way Postgres would (the fake connection executes commits this way;
 * a round-trip test keeps it honest).
 */
export function decodeApplyCommit(params: readonly unknown[]): CommitBatch {
  if (params.length !== 19) {
    throw new CommitDecodeError('42883', 'function apply_commit does not take these arguments');
  }
  const list = (i: number): unknown[] => {
    const value = params[i];
    if (!Array.isArray(value)) throw new CommitDecodeError('22P02', `parameter $${i + 1} is not an array`);
    // The store promises arrays without NULL elements (postgres.js mangles them).
    if (value.some((v) => v === null || v === undefined)) {
      throw new CommitDecodeError('22004', `parameter $${i + 1} has a NULL element`);
    }
    return value;
  };
  const json = (value: unknown, field: string): string => canonicalJson(JSON.parse(decodeText(value, field)), field);
  const [checkKinds, checkIds, checkVersions] = [list(1), list(2), list(3)];
  const [kinds, ids, expected, versions, keep, data] = [list(4), list(5), list(6), list(7), list(8), list(9)];
  const [auditIds, actors, actions, recordKeys, details] = [list(10), list(11), list(12), list(13), list(14)];
  const [outboxIds, topics, outboxKeys, payloads] = [list(15), list(16), list(17), list(18)];
  return {
    checks: checkKinds.map((k, i) => {
      const kind = decodeText(k, 'check kind');
      const id = decodeText(checkIds[i], 'check id');
      return { kind, id, key: `${kind}:${id}`, version: decodeInteger(checkVersions[i], 'check version') };
    }),
    writes: kinds.map((k, i) => {
      const kind = decodeText(k, 'kind');
      const id = decodeText(ids[i], 'id');
      return {
        kind,
        id,
        key: `${kind}:${id}`,
        expectedVersion: decodeInteger(expected[i], 'expected version'),
        version: decodeInteger(versions[i], 'version'),
        data: data[i] === '' ? null : json(data[i], 'data'),
        keepCreatedAt: decodeInteger(keep[i], 'keep') === 1,
      };
    }),
    audit: auditIds.map((id, i) => ({
      id: decodeText(id, 'audit id'),
      actor: decodeText(actors[i], 'actor'),
      action: decodeText(actions[i], 'action'),
      recordKey: recordKeys[i] === '' ? null : decodeText(recordKeys[i], 'record key'),
      detail: json(details[i], 'detail'),
    })),
    outbox: outboxIds.map((id, i) => ({
      id: decodeText(id, 'outbox id'),
      topic: decodeText(topics[i], 'topic'),
      key: decodeText(outboxKeys[i], 'key'),
      payload: json(payloads[i], 'payload'),
    })),
  };
}

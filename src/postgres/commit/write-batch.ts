import { canonicalJson } from '../../store/json.js';
import type { CommitBatch, PendingWrite } from '../../store/unit-of-work.js';
import type { SchemaName } from '../schema-name.js';
import {
  CommitDecodeError,
  type CommitStatement,
  decodeInteger,
  decodeText,
  lockOrder,
  writeOp,
} from './commit-statement.js';

/**
 * The write-batch path: a commit that only writes (no record was merely
 * read), as one generated plain statement. No function body runs, so the
 * server does about the work a hand-written statement would.
 *
 * The rule every commit path obeys (docs/durable-store.md has the argument):
 * each write carries its expectation in the statement that performs it — an
 * insert is `INSERT … ON CONFLICT DO NOTHING` (it finds no row, or writes
 * nothing), an update or delete is `WHERE version = $expected` — and a write
 * that touched no row means a conflict.
 *
 * The statement, in order:
 * 1. `pre`: a primary-key probe per write against the statement's snapshot;
 *    the first write whose record is not at the version it expects makes
 *    `failed` its position. Every write below is gated on `failed = 0`, so a
 *    conflict that is already committed is an *answer*: nothing is written,
 *    nothing raised, the connection and any surrounding transaction are fine,
 *    and the server log stays quiet.
 * 2. the inserts as one `INSERT … ON CONFLICT DO NOTHING`, each update and
 *    delete as its own data-modifying CTE, the audit entries and the outbox
 *    messages as one INSERT each (identity values follow VALUES order);
 * 3. a final SELECT that, if a gated write still touched no row — a commit
 *    that landed between the snapshot and the write — calls
 *    `raise_conflict(n)`, which rolls the whole statement back.
 *
 * JSON goes in as `$n::text::jsonb`: a bare `$n::jsonb` makes the server
 * describe the parameter as jsonb, and postgres.js would then JSON-encode the
 * already-encoded text a second time.
 *
 * The text depends only on the batch's shape (which writes are inserts,
 * updates or deletes; how many audit entries and messages), named in a
 * leading comment, so a handful of texts serve every engine command and are
 * prepared once per connection.
 */
export interface WriteBatchShape {
  /** One letter per write in lock order: `i` insert, `u` update, `d` delete. */
  ops: string;
  audit: number;
  outbox: number;
}

export function writeBatchHeader(shape: WriteBatchShape): string {
  return `/* user-engine commit: writes=${shape.ops || '-'} audit=${shape.audit} outbox=${shape.outbox} */`;
}

/** Parses the header comment back into a shape (the fake connection uses it); null if absent. */
export function parseWriteBatchHeader(text: string): WriteBatchShape | null {
  const match = /^\/\* user-engine commit: writes=([iud]+|-) audit=(\d+) outbox=(\d+) \*\//.exec(text);
  if (match === null) return null;
  return { ops: match[1] === '-' ? '' : (match[1] ?? ''), audit: Number(match[2]), outbox: Number(match[3]) };
}

/** The statement text for a shape. Pure: the same shape always gives the same text. */
export function writeBatchSql(s: SchemaName, shape: WriteBatchShape): string {
  const records = `${s.quoted}.records`;
  const stamp = `date_trunc('milliseconds', statement_timestamp())`;
  const go = '(SELECT failed FROM pre) = 0';
  const probes: string[] = [];
  const ctes: string[] = [];
  const raises: string[] = [];
  const insertRows: string[] = [];
  let p = 0;
  const next = () => `$${++p}`;
  [...shape.ops].forEach((op, i) => {
    const position = i + 1;
    if (op === 'i') {
      const [kind, id, version, data] = [next(), next(), next(), next()];
      probes.push(
        `WHEN EXISTS (SELECT FROM ${records} WHERE kind = ${kind}::text AND id = ${id}::text) THEN ${position}`,
      );
      insertRows.push(
        `(${kind}::text, ${id}::text, ${kind}::text || ':' || ${id}::text, ${version}::integer, ${data}::text::jsonb, ${stamp}, ${stamp})`,
      );
      raises.push(
        `WHEN NOT EXISTS (SELECT FROM created WHERE created.kind = ${kind}::text AND created.id = ${id}::text) THEN ${s.quoted}.raise_conflict(${position})`,
      );
      return;
    }
    const name = `w${position}`;
    if (op === 'u') {
      const [kind, id, expected, version, data, keep] = [next(), next(), next(), next(), next(), next()];
      probes.push(
        `WHEN NOT EXISTS (SELECT FROM ${records} WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer) THEN ${position}`,
      );
      ctes.push(
        `${name} AS (UPDATE ${records} SET version = ${version}::integer, data = ${data}::text::jsonb, updated_at = ${stamp}, created_at = CASE WHEN ${keep}::integer = 1 THEN created_at ELSE ${stamp} END WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer AND ${go} RETURNING 1)`,
      );
    } else {
      const [kind, id, expected] = [next(), next(), next()];
      probes.push(
        `WHEN NOT EXISTS (SELECT FROM ${records} WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer) THEN ${position}`,
      );
      ctes.push(
        `${name} AS (DELETE FROM ${records} WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer AND ${go} RETURNING 1)`,
      );
    }
    raises.push(`WHEN NOT EXISTS (SELECT FROM ${name}) THEN ${s.quoted}.raise_conflict(${position})`);
  });
  if (insertRows.length > 0) {
    ctes.push(
      `created AS (INSERT INTO ${records} (kind, id, key, version, data, created_at, updated_at) SELECT * FROM (VALUES ${insertRows.join(', ')}) AS v WHERE ${go} ON CONFLICT DO NOTHING RETURNING kind, id)`,
    );
  }
  const auditRows: string[] = [];
  for (let i = 0; i < shape.audit; i++) {
    const [id, actor, action, key, detail] = [next(), next(), next(), next(), next()];
    auditRows.push(
      `(${id}::uuid, ${stamp}, ${actor}::text, ${action}::text, nullif(${key}::text, ''), ${detail}::text::jsonb)`,
    );
  }
  if (auditRows.length > 0) {
    ctes.push(
      `audited AS (INSERT INTO ${s.quoted}.audit (id, at, actor, action, record_key, detail) SELECT * FROM (VALUES ${auditRows.join(', ')}) AS v WHERE ${go})`,
    );
  }
  const outboxRows: string[] = [];
  for (let i = 0; i < shape.outbox; i++) {
    const [id, topic, key, payload] = [next(), next(), next(), next()];
    outboxRows.push(
      `(${id}::uuid, split_part(${topic}::text, '.', 1), ${key}::text, ${topic}::text, ${payload}::text::jsonb, ${stamp})`,
    );
  }
  if (outboxRows.length > 0) {
    ctes.push(
      `queued AS (INSERT INTO ${s.quoted}.outbox (id, aggregatetype, aggregateid, type, payload, created_at) SELECT * FROM (VALUES ${outboxRows.join(', ')}) AS v WHERE ${go})`,
    );
  }
  const pre = `pre AS (SELECT ${probes.length === 0 ? '0' : `CASE ${probes.join(' ')} ELSE 0 END`} AS failed)`;
  const failed = `CASE WHEN pre.failed <> 0 THEN pre.failed ${raises.join(' ')} ELSE 0 END`;
  return `${writeBatchHeader(shape)}\nWITH ${[pre, ...ctes].join(',\n')}\nSELECT ${failed} AS failed FROM pre`;
}

/** The shape, parameters and position keys of a write-only batch. Audit entries and messages keep their order. */
export function encodeWriteBatch(batch: CommitBatch): { shape: WriteBatchShape; params: unknown[]; keys: string[] } {
  const writes = [...batch.writes].sort(lockOrder);
  const params: unknown[] = [];
  let ops = '';
  for (const w of writes) {
    const op = writeOp(w);
    ops += op;
    if (op === 'i') params.push(w.kind, w.id, w.version, w.data);
    else if (op === 'u') params.push(w.kind, w.id, w.expectedVersion, w.version, w.data, w.keepCreatedAt ? 1 : 0);
    else params.push(w.kind, w.id, w.expectedVersion);
  }
  for (const a of batch.audit) params.push(a.id, a.actor, a.action, a.recordKey ?? '', a.detail);
  for (const o of batch.outbox) params.push(o.id, o.topic, o.key, o.payload);
  return {
    shape: { ops, audit: batch.audit.length, outbox: batch.outbox.length },
    params,
    keys: writes.map((w) => w.key),
  };
}

/** A write-batch commit ready to send; `sqlFor` supplies (and may cache) the text of a shape. */
export function writeBatchStatement(batch: CommitBatch, sqlFor: (shape: WriteBatchShape) => string): CommitStatement {
  const { shape, params, keys } = encodeWriteBatch(batch);
  return { text: sqlFor(shape), params, keys };
}

/**
 * Reads a write-batch statement's parameters back into the batch it carries,
 * by its shape, rejecting what the store would never send (the fake
 * connection executes commits this way; a round-trip test keeps it honest).
 */
export function decodeWriteBatch(shape: WriteBatchShape, params: readonly unknown[]): CommitBatch {
  let at = 0;
  const take = (): unknown => {
    if (at >= params.length) throw new CommitDecodeError('08P01', 'bind message supplies too few parameters');
    return params[at++];
  };
  const text = () => decodeText(take(), `$${at + 1}`);
  const int = () => decodeInteger(take(), `$${at + 1}`);
  const json = (field: string) => canonicalJson(JSON.parse(text()), field);
  const writes: PendingWrite[] = [];
  for (const op of shape.ops) {
    const kind = text();
    const id = text();
    const key = `${kind}:${id}`;
    if (op === 'i') {
      const version = int();
      writes.push({ kind, id, key, expectedVersion: 0, version, data: json('data'), keepCreatedAt: false });
    } else if (op === 'u') {
      const expectedVersion = int();
      const version = int();
      const data = json('data');
      writes.push({ kind, id, key, expectedVersion, version, data, keepCreatedAt: int() === 1 });
    } else {
      writes.push({ kind, id, key, expectedVersion: int(), version: 0, data: null, keepCreatedAt: false });
    }
  }
  const audit: CommitBatch['audit'] = [];
  for (let i = 0; i < shape.audit; i++) {
    const [id, actor, action, recordKey] = [text(), text(), text(), text()];
    audit.push({ id, actor, action, recordKey: recordKey === '' ? null : recordKey, detail: json('detail') });
  }
  const outbox: CommitBatch['outbox'] = [];
  for (let i = 0; i < shape.outbox; i++) {
    const [id, topic, key] = [text(), text(), text()];
    outbox.push({ id, topic, key, payload: json('payload') });
  }
  if (at !== params.length) throw new CommitDecodeError('08P01', 'bind message supplies too many parameters');
  return { checks: [], writes, audit, outbox };
}

import type { CommitBatch, PendingWrite } from '../../store/unit-of-work.js';
import type { SchemaName } from './schema-name.js';

/**
 * A commit that only writes (no record was merely read), as one plain
 * statement: the inserts as one `INSERT … ON CONFLICT DO NOTHING`, each
 * update and delete a data-modifying CTE whose own WHERE clause is the
 * version check, then the audit entries and outbox messages, then a final
 * SELECT that calls `raise_conflict(n)` if write n touched no row — which
 * rolls the whole statement back. No function body runs on the success
 * path, so the server does the least work a hand-written statement would.
 *
 * Exactness comes from row-level semantics under READ COMMITTED: an insert
 * (`ON CONFLICT DO NOTHING`) waits for any in-flight insert of the same key
 * and then finds it; an update or delete `WHERE version = expected` waits
 * for a concurrent writer and re-checks the row it left. Writes are ordered
 * by key so two commits take their row locks in the same order.
 *
 * JSON goes in as `$n::text::jsonb`: a bare `$n::jsonb` makes the server
 * describe the parameter as jsonb, and postgres.js would then JSON-encode
 * the already-encoded text a second time.
 *
 * The text depends only on the batch's shape (which writes are inserts,
 * updates or deletes; how many audit entries and messages), named in a
 * leading comment, so a handful of texts serve every engine command and are
 * prepared once per connection.
 */
export interface WriteBatchStatement {
  text: string;
  params: unknown[];
  /** The record key of each write, in statement order: `raise_conflict(n)` names `keys[n - 1]`. */
  keys: string[];
}

type Op = 'i' | 'u' | 'd';

function opOf(write: PendingWrite): Op {
  if (write.data === null) return 'd';
  return write.expectedVersion === 0 ? 'i' : 'u';
}

/** Orders writes by key (code unit order; any fixed total order prevents lock-order deadlocks). */
function byKey(a: PendingWrite, b: PendingWrite): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export interface WriteBatchShape {
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
  const stamp = `date_trunc('milliseconds', statement_timestamp())`;
  const ctes: string[] = [];
  const checks: string[] = [];
  let p = 0;
  const next = () => `$${++p}`;
  // All inserts go in one multi-row INSERT (one executor node, however many index records a
  // command claims); each update and delete is its own CTE, its WHERE clause its version check.
  const insertRows: string[] = [];
  [...shape.ops].forEach((op, i) => {
    const name = `w${i + 1}`;
    if (op === 'i') {
      const [kind, id, version, data] = [next(), next(), next(), next()];
      insertRows.push(
        `(${kind}::text, ${id}::text, ${kind}::text || ':' || ${id}::text, ${version}::integer, ${data}::text::jsonb, ${stamp}, ${stamp})`,
      );
      checks.push(
        `WHEN NOT EXISTS (SELECT FROM created WHERE created.kind = ${kind}::text AND created.id = ${id}::text) THEN ${s.quoted}.raise_conflict(${i + 1})`,
      );
      return;
    }
    if (op === 'u') {
      const [kind, id, expected, version, data, keep] = [next(), next(), next(), next(), next(), next()];
      ctes.push(
        `${name} AS (UPDATE ${s.quoted}.records SET version = ${version}::integer, data = ${data}::text::jsonb, updated_at = ${stamp}, created_at = CASE WHEN ${keep}::integer = 1 THEN created_at ELSE ${stamp} END WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer RETURNING 1)`,
      );
    } else {
      const [kind, id, expected] = [next(), next(), next()];
      ctes.push(
        `${name} AS (DELETE FROM ${s.quoted}.records WHERE kind = ${kind}::text AND id = ${id}::text AND version = ${expected}::integer RETURNING 1)`,
      );
    }
    checks.push(`WHEN NOT EXISTS (SELECT FROM ${name}) THEN ${s.quoted}.raise_conflict(${i + 1})`);
  });
  if (insertRows.length > 0) {
    ctes.push(
      `created AS (INSERT INTO ${s.quoted}.records (kind, id, key, version, data, created_at, updated_at) VALUES ${insertRows.join(', ')} ON CONFLICT DO NOTHING RETURNING kind, id)`,
    );
  }
  // One INSERT per table, rows in order: identity values follow the VALUES order, whereas
  // the order in which several data-modifying CTEs run is unspecified.
  const auditRows: string[] = [];
  for (let i = 0; i < shape.audit; i++) {
    const [id, actor, action, key, detail] = [next(), next(), next(), next(), next()];
    auditRows.push(
      `(${id}::uuid, ${stamp}, ${actor}::text, ${action}::text, nullif(${key}::text, ''), ${detail}::text::jsonb)`,
    );
  }
  if (auditRows.length > 0) {
    ctes.push(
      `audited AS (INSERT INTO ${s.quoted}.audit (id, at, actor, action, record_key, detail) VALUES ${auditRows.join(', ')})`,
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
      `queued AS (INSERT INTO ${s.quoted}.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES ${outboxRows.join(', ')})`,
    );
  }
  const failed = checks.length === 0 ? '0' : `CASE ${checks.join(' ')} ELSE 0 END`;
  const body =
    ctes.length === 0 ? `SELECT ${failed} AS failed` : `WITH ${ctes.join(',\n')}\nSELECT ${failed} AS failed`;
  return `${writeBatchHeader(shape)}\n${body}`;
}

/** The shape and parameters of a write-only batch. Audit entries and messages keep their order. */
export function writeBatchParams(batch: CommitBatch): { shape: WriteBatchShape; params: unknown[]; keys: string[] } {
  const writes = [...batch.writes].sort(byKey);
  const params: unknown[] = [];
  let ops = '';
  for (const w of writes) {
    const op = opOf(w);
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

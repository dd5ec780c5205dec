import type { SchemaName } from '../schema-name.js';
import { isoTimestamp } from './record-columns.js';

/** Audit entries after a seq, ascending, optionally for one record key (served by audit_by_record_key). */
export const readAuditSql = (s: SchemaName) =>
  `SELECT seq, id, ${isoTimestamp('at')} AS at, actor, action, record_key, detail::text AS detail FROM ${s.quoted}.audit
   WHERE seq > $1 AND ($2::text IS NULL OR record_key = $2::text) ORDER BY seq LIMIT $3`;

export const readAuditParams = (afterSeq: number, recordKey: string | null, limit: number): unknown[] => [
  afterSeq,
  recordKey,
  limit,
];

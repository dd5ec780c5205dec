import type { SchemaName } from '../schema-name.js';
import { isoTimestamp, recordColumns } from './record-columns.js';

/**
 * An index record and the record it points at, in one statement: the same
 * two primary-key probes as `read-indexed-record.ts`, returning both rows'
 * columns side by side (the index record's prefixed with `index_`).
 */
export const readIndexedPairSql = (s: SchemaName) =>
  `SELECT ${recordColumns('t')}, i.kind AS index_kind, i.id AS index_id, i.version AS index_version, i.data::text AS index_data, ${isoTimestamp('i.created_at')} AS index_created_at, ${isoTimestamp('i.updated_at')} AS index_updated_at
   FROM ${s.quoted}.records i
   JOIN ${s.quoted}.records t ON t.kind = $3 AND t.id = i.data->>$4::text
   WHERE i.kind = $1 AND i.id = $2`;

export const readIndexedPairParams = (
  index: { kind: string; id: string },
  target: { kind: string; field: string },
): unknown[] => [index.kind, index.id, target.kind, target.field];

/** The index record's half of a row of `readIndexedPairSql`, in the shape `deserializeRecord` reads. */
export function indexHalf(row: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: row.index_kind,
    id: row.index_id,
    version: row.index_version,
    data: row.index_data,
    created_at: row.index_created_at,
    updated_at: row.index_updated_at,
  };
}

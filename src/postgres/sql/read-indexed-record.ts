import type { SchemaName } from '../schema-name.js';
import { recordColumns } from './record-columns.js';

/**
 * The record an index record points at, in one statement: two primary-key
 * probes joined on the index record's pointer field.
 */
export const readIndexedRecordSql = (s: SchemaName) =>
  `SELECT ${recordColumns('t')} FROM ${s.quoted}.records i
   JOIN ${s.quoted}.records t ON t.kind = $3 AND t.id = i.data->>$4::text
   WHERE i.kind = $1 AND i.id = $2`;

export const readIndexedRecordParams = (
  index: { kind: string; id: string },
  target: { kind: string; field: string },
): unknown[] => [index.kind, index.id, target.kind, target.field];

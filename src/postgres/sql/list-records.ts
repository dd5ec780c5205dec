import type { SchemaName } from '../schema-name.js';
import { recordColumns } from './record-columns.js';

/**
 * A keyset page of one kind, by id in code point order (the column is
 * COLLATE "C"). No OFFSET: the primary key (kind, id) serves every page.
 * Ids are never empty, so '' stands for "from the start" and one statement
 * (one plan) serves every page.
 */
export const listRecordsSql = (s: SchemaName) =>
  `SELECT ${recordColumns('r')} FROM ${s.quoted}.records r
   WHERE r.kind = $1 AND r.id > $2 ORDER BY r.id LIMIT $3`;

export const listRecordsParams = (kind: string, after: string | null, limit: number): unknown[] => [
  kind,
  after ?? '',
  limit,
];

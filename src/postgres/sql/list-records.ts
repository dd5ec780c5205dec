import type { SchemaName } from './schema-name.js';

/**
 * A keyset page of one kind, by id in code point order (the column is
 * COLLATE "C"). No OFFSET: the primary key (kind, id) serves every page.
 * Ids are never empty, so '' stands for "from the start" and one statement
 * (one plan) serves every page.
 */
export const listRecordsSql = (s: SchemaName) =>
  `SELECT kind, id, version, data::text AS data, created_at, updated_at FROM ${s.quoted}.records
   WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`;

export const listRecordsParams = (kind: string, after: string | null, limit: number): unknown[] => [
  kind,
  after ?? '',
  limit,
];

import type { SchemaName } from './schema-name.js';

/** One record by kind and id. `data::text` so every driver hands back the same thing: JSON text. */
export const readRecordSql = (s: SchemaName) =>
  `SELECT kind, id, version, data::text AS data, created_at, updated_at FROM ${s.quoted}.records WHERE kind = $1 AND id = $2`;

export const readRecordParams = (kind: string, id: string): unknown[] => [kind, id];

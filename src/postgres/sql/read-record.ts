import type { SchemaName } from '../schema-name.js';
import { recordColumns } from './record-columns.js';

/** One record by kind and id (a primary-key probe). */
export const readRecordSql = (s: SchemaName) =>
  `SELECT ${recordColumns('r')} FROM ${s.quoted}.records r WHERE r.kind = $1 AND r.id = $2`;

export const readRecordParams = (kind: string, id: string): unknown[] => [kind, id];

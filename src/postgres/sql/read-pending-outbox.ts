import type { SchemaName } from '../schema-name.js';
import { isoTimestamp } from './record-columns.js';

/** Outbox messages after a seq, ascending. Until delivery is built, every message is pending. */
export const readPendingOutboxSql = (s: SchemaName) =>
  `SELECT seq, id, type AS topic, aggregateid AS key, payload::text AS payload, ${isoTimestamp('created_at')} AS created_at FROM ${s.quoted}.outbox
   WHERE seq > $1 ORDER BY seq LIMIT $2`;

export const readPendingOutboxParams = (afterSeq: number, limit: number): unknown[] => [afterSeq, limit];

import type { SchemaName } from '../schema-name.js';
import { isoTimestamp } from './record-columns.js';

/** Outbox messages not yet delivered (pending, or claimed by a relay) after a seq, ascending. */
export const readPendingOutboxSql = (s: SchemaName) =>
  `SELECT o.seq, o.id, o.type AS topic, o.aggregateid AS key, o.payload::text AS payload, ${isoTimestamp('o.created_at')} AS created_at
   FROM ${s.quoted}.outbox_delivery d JOIN ${s.quoted}.outbox o ON o.seq = d.seq
   WHERE d.state IN ('pending', 'claimed') AND d.seq > $1 ORDER BY d.seq LIMIT $2`;

export const readPendingOutboxParams = (afterSeq: number, limit: number): unknown[] => [afterSeq, limit];

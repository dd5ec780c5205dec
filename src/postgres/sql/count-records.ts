import type { SchemaName } from '../schema-name.js';

/**
 * Counts only: records per kind, audit entries, undelivered outbox messages, in one
 * statement. Kinds cannot start with '#', so the two totals cannot collide with one.
 */
export const countRecordsSql = (s: SchemaName) =>
  `SELECT kind AS name, count(*) AS n FROM ${s.quoted}.records GROUP BY kind
   UNION ALL SELECT '#audit', count(*) FROM ${s.quoted}.audit
   UNION ALL SELECT '#outbox', count(*) FROM ${s.quoted}.outbox_delivery WHERE state IN ('pending', 'claimed')`;

/**
 * Version 4: email index records re-keyed to `caseInsensitiveKey` (see
 * `store/text-key.ts`). Unlike the versions before it, this one changes data
 * that only JavaScript can compute (Unicode case folding), so it is not a
 * script: the store reads the ids of the kind's records, plans the moves in
 * JavaScript (`planRekey`, which refuses when two users' addresses would meet
 * under one key, naming the users), and sends this one statement, with every
 * id as a bind parameter. It takes the migration lock, records the version
 * row, deletes each moving record and inserts it under its new id with its
 * version, data and timestamps unchanged — and raises (rolling all of it
 * back) if the records are not exactly those it planned from, so that a
 * writer that slipped in between is met by a fresh plan, not overwritten.
 *
 * Parameters: $1 lock key, $2–$5 the version row (version, name, checksum,
 * breaking), $6 the kind, $7 current ids, $8 new ids, $9 the number of the
 * kind's records the plan was made from.
 */
export const rekeyStatement = `/* user-engine migration: re-key records */
WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))),
applied AS (
  INSERT INTO __SCHEMA__.schema_migrations (version, name, checksum, breaking)
  SELECT $2::integer, $3::text, $4::text, $5::boolean FROM locked
  RETURNING version),
removed AS (
  DELETE FROM __SCHEMA__.records AS r
  USING unnest($7::text[]) AS m(old_id)
  WHERE r.kind = $6::text AND r.id = m.old_id AND EXISTS (SELECT FROM applied)
  RETURNING r.id, r.version, r.data, r.created_at, r.updated_at),
added AS (
  INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
  SELECT $6::text, m.new_id, $6::text || ':' || m.new_id, removed.version, removed.data, removed.created_at, removed.updated_at
  FROM removed JOIN unnest($7::text[], $8::text[]) AS m(old_id, new_id) ON m.old_id = removed.id
  ON CONFLICT DO NOTHING
  RETURNING 1)
SELECT CASE
  WHEN (SELECT count(*) FROM removed) <> cardinality($7::text[])
    OR (SELECT count(*) FROM added) <> cardinality($7::text[])
    OR (SELECT count(*) FROM __SCHEMA__.records WHERE kind = $6::text) <> $9::bigint
  THEN __SCHEMA__.raise_conflict(1) ELSE 0 END AS failed`;

/** The ids of one kind's records and the owner each names: what `planRekey` plans from. */
export const readRekeyRecordsSql = (quotedSchema: string) =>
  `SELECT id, data->>$2::text AS owner FROM ${quotedSchema}.records WHERE kind = $1::text`;

/**
 * Version 2: the commit path. Most commits (every engine command) only
 * write: they go out as one generated statement (`sql/write-batch.ts`) and
 * need only `raise_conflict`, which that statement calls when a write finds
 * the record not at the version it expected, so that the whole statement
 * rolls back. A commit that also validates records it only read goes through
 * `apply_commit`.
 *
 * `apply_commit(...) -> integer` is the whole of such a store
 * transaction in one statement. Its parameters are parallel arrays (the
 * expectations of records only read; the writes; the audit entries; the
 * outbox messages), so nothing is decoded from a JSON envelope on the
 * server. Only `text[]` and `integer[]` without NULL elements are used —
 * the one array encoding node-postgres, postgres.js and PGlite all bind
 * alike — so JSON travels as text (cast here), a delete is an empty data
 * string, and an audit entry without a record key has ''. It
 *
 * 1. takes a transaction advisory lock per record key in the batch, in hash
 *    order (so two commits never deadlock), in a key space of this schema's
 *    own; concurrent commits on the same records queue here and their checks
 *    below cannot race;
 * 2. checks every expectation (records read, then the version each write
 *    expects), one primary-key probe each, returning the 1-based position of
 *    the first that fails without writing anything: a conflict is an answer,
 *    not an error, so it does not abort a provider's surrounding transaction
 *    or fill the server log, and no key (which may hold an email address)
 *    reaches the log;
 * 3. deletes, updates and inserts the records, appends the audit entries and
 *    the outbox messages in order, all stamped with one millisecond
 *    timestamp; returns 0.
 *
 * Non-breaking: code that predates it never calls it.
 */
export const commitFunction = `
CREATE FUNCTION __SCHEMA__.apply_commit(
  p_lock_space integer,
  p_check_kinds text[], p_check_ids text[], p_check_versions integer[],
  p_kinds text[], p_ids text[], p_expected integer[], p_versions integer[], p_keep integer[], p_data text[],
  p_audit_ids text[], p_actors text[], p_actions text[], p_record_keys text[], p_details text[],
  p_outbox_ids text[], p_topics text[], p_outbox_keys text[], p_payloads text[]
) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  stamp timestamptz := date_trunc('milliseconds', statement_timestamp());
  checks integer := coalesce(array_length(p_check_kinds, 1), 0);
  writes integer := coalesce(array_length(p_kinds, 1), 0);
  found_version integer;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_space, h)
    FROM (SELECT DISTINCT hashtext(k || ':' || i) AS h
          FROM unnest(p_check_kinds || p_kinds, p_check_ids || p_ids) AS u(k, i)) AS keys
    ORDER BY h;

  FOR n IN 1 .. checks LOOP
    SELECT version INTO found_version FROM __SCHEMA__.records WHERE kind = p_check_kinds[n] AND id = p_check_ids[n];
    IF coalesce(found_version, 0) <> p_check_versions[n] THEN
      RETURN n;
    END IF;
  END LOOP;
  FOR n IN 1 .. writes LOOP
    SELECT version INTO found_version FROM __SCHEMA__.records WHERE kind = p_kinds[n] AND id = p_ids[n];
    IF coalesce(found_version, 0) <> p_expected[n] THEN
      RETURN checks + n;
    END IF;
  END LOOP;

  FOR n IN 1 .. writes LOOP
    IF p_data[n] = '' THEN
      DELETE FROM __SCHEMA__.records WHERE kind = p_kinds[n] AND id = p_ids[n];
    ELSIF p_expected[n] = 0 THEN
      INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
        VALUES (p_kinds[n], p_ids[n], p_kinds[n] || ':' || p_ids[n], p_versions[n], p_data[n]::jsonb, stamp, stamp);
    ELSE
      UPDATE __SCHEMA__.records
        SET version = p_versions[n], data = p_data[n]::jsonb, updated_at = stamp,
            created_at = CASE WHEN p_keep[n] = 1 THEN created_at ELSE stamp END
        WHERE kind = p_kinds[n] AND id = p_ids[n];
    END IF;
  END LOOP;

  IF coalesce(array_length(p_audit_ids, 1), 0) > 0 THEN
    INSERT INTO __SCHEMA__.audit (id, at, actor, action, record_key, detail)
      SELECT a.id::uuid, stamp, a.actor, a.action, nullif(a.record_key, ''), a.detail::jsonb
      FROM unnest(p_audit_ids, p_actors, p_actions, p_record_keys, p_details)
        WITH ORDINALITY AS a(id, actor, action, record_key, detail, ord)
      ORDER BY a.ord;
  END IF;

  IF coalesce(array_length(p_outbox_ids, 1), 0) > 0 THEN
    INSERT INTO __SCHEMA__.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
      SELECT o.id::uuid, split_part(o.topic, '.', 1), o.key, o.topic, o.payload::jsonb, stamp
      FROM unnest(p_outbox_ids, p_topics, p_outbox_keys, p_payloads) WITH ORDINALITY AS o(id, topic, key, payload, ord)
      ORDER BY o.ord;
  END IF;

  RETURN 0;
END
$fn$;

CREATE FUNCTION __SCHEMA__.raise_conflict(p_position integer) RETURNS integer
LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'user-engine: version conflict at write %', p_position
    USING ERRCODE = 'UE409', DETAIL = p_position::text;
END
$fn$;
`;

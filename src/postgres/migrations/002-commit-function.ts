/**
 * Version 2: `apply_commit(batch text) -> integer`, the whole of a store
 * transaction in one statement. It
 *
 * 1. takes a transaction advisory lock per record key the transaction read
 *    or wrote, in hash order (so two commits never deadlock), in a key space
 *    of this schema's own; concurrent commits on the same records queue here
 *    and their checks below cannot race;
 * 2. checks every expectation (records read, and the version each write
 *    expects), one primary-key probe each, returning the 1-based position of
 *    the first that fails without writing anything: a conflict is an answer, not an error, so it
 *    does not abort a provider's surrounding transaction or fill the server
 *    log, and no key (which may hold an email address) reaches the log;
 * 3. deletes, updates and inserts the records, appends the audit entries and
 *    the outbox messages, in batch order, all stamped with one millisecond
 *    timestamp; returns 0.
 *
 * The batch is text, not jsonb, so every driver binds it the same way.
 * Non-breaking: code that predates it never calls it.
 */
export const commitFunction = `
CREATE FUNCTION __SCHEMA__.apply_commit(p_batch text) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  batch jsonb := p_batch::jsonb;
  stamp timestamptz := date_trunc('milliseconds', clock_timestamp());
  e record;
  w record;
  found_version integer;
BEGIN
  PERFORM pg_advisory_xact_lock((batch->>'lockSpace')::integer, hashtext(x.key))
    FROM jsonb_to_recordset(batch->'expect') AS x(key text)
    GROUP BY hashtext(x.key)
    ORDER BY hashtext(x.key);

  -- Row by row, so every lookup is a primary-key probe whatever the planner
  -- would guess for a join against a set-returning function.
  FOR e IN SELECT * FROM jsonb_to_recordset(batch->'expect') AS x(kind text, id text, version integer, ord integer) LOOP
    SELECT r.version INTO found_version FROM __SCHEMA__.records r WHERE r.kind = e.kind AND r.id = e.id;
    IF coalesce(found_version, 0) <> e.version THEN
      RETURN e.ord;
    END IF;
  END LOOP;

  FOR w IN SELECT * FROM jsonb_to_recordset(batch->'writes')
      AS x(kind text, id text, key text, expected integer, version integer, data jsonb, keep boolean) LOOP
    IF w.data IS NULL THEN
      DELETE FROM __SCHEMA__.records WHERE kind = w.kind AND id = w.id;
    ELSIF w.expected = 0 THEN
      INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
        VALUES (w.kind, w.id, w.key, w.version, w.data, stamp, stamp);
    ELSE
      UPDATE __SCHEMA__.records
        SET version = w.version, data = w.data, updated_at = stamp,
            created_at = CASE WHEN w.keep THEN created_at ELSE stamp END
        WHERE kind = w.kind AND id = w.id;
    END IF;
  END LOOP;

  INSERT INTO __SCHEMA__.audit (id, at, actor, action, record_key, detail)
    SELECT (a->>'id')::uuid, stamp, a->>'actor', a->>'action', a->>'key', a->'detail'
    FROM jsonb_array_elements(batch->'audit') WITH ORDINALITY AS t(a, ord)
    ORDER BY t.ord;

  INSERT INTO __SCHEMA__.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
    SELECT (o->>'id')::uuid, split_part(o->>'topic', '.', 1), o->>'key', o->>'topic', o->'payload', stamp
    FROM jsonb_array_elements(batch->'outbox') WITH ORDINALITY AS t(o, ord)
    ORDER BY t.ord;

  RETURN 0;
END
$fn$;
`;

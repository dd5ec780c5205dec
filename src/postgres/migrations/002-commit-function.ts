/**
 * Version 2: `apply_commit(batch text) -> integer`, the whole of a store
 * transaction in one statement. It
 *
 * 1. takes a transaction advisory lock per record key the transaction read
 *    or wrote, in hash order (so two commits never deadlock), in a key space
 *    of this schema's own; concurrent commits on the same records queue here
 *    and their checks below cannot race;
 * 2. checks every expectation (records read, and the version each write
 *    expects), returning the 1-based position of the first that fails
 *    without writing anything: a conflict is an answer, not an error, so it
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
  failed integer;
BEGIN
  PERFORM pg_advisory_xact_lock((batch->>'lockSpace')::integer, hashtext(e.key))
    FROM jsonb_to_recordset(batch->'expect') AS e(key text)
    GROUP BY hashtext(e.key)
    ORDER BY hashtext(e.key);

  SELECT e.ord INTO failed
    FROM jsonb_to_recordset(batch->'expect') AS e(kind text, id text, version integer, ord integer)
    LEFT JOIN __SCHEMA__.records r ON r.kind = e.kind AND r.id = e.id
    WHERE coalesce(r.version, 0) <> e.version
    ORDER BY e.ord
    LIMIT 1;
  IF failed IS NOT NULL THEN
    RETURN failed;
  END IF;

  DELETE FROM __SCHEMA__.records r
    USING jsonb_to_recordset(batch->'writes') AS w(kind text, id text, data jsonb)
    WHERE w.data IS NULL AND r.kind = w.kind AND r.id = w.id;

  UPDATE __SCHEMA__.records r
    SET version = w.version, data = w.data, updated_at = stamp,
        created_at = CASE WHEN w.keep THEN r.created_at ELSE stamp END
    FROM jsonb_to_recordset(batch->'writes') AS w(kind text, id text, expected integer, version integer, data jsonb, keep boolean)
    WHERE w.data IS NOT NULL AND w.expected > 0 AND r.kind = w.kind AND r.id = w.id;

  INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
    SELECT w.kind, w.id, w.key, w.version, w.data, stamp, stamp
    FROM jsonb_to_recordset(batch->'writes') AS w(kind text, id text, key text, expected integer, version integer, data jsonb)
    WHERE w.data IS NOT NULL AND w.expected = 0;

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

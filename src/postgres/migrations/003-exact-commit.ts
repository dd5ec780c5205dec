/**
 * Version 3: one concurrency rule for every commit path. Version 2's
 * `apply_commit` checked versions with a SELECT under advisory locks that the
 * write-batch statement never takes, and then updated and deleted by key
 * alone, so a large commit could overwrite a small one that landed between
 * its check and its write (a lost update; an erased user brought back). This
 * body replaces it, keeping its signature so that code from before version 3
 * calls the corrected body too (the lock-space parameter is ignored).
 *
 * 1. Every expectation is probed against what is committed now; the first
 *    that fails is returned as an *answer* (its 1-based position among the
 *    checks, then the writes) before anything is written or locked.
 * 2. Every record the batch touches is then taken in one fixed order (kind,
 *    then id, "C" collation — the write-batch path orders its writes the same
 *    way), so two commits queue instead of deadlocking:
 *    - a record read at version v: `SELECT … WHERE version = v FOR SHARE`,
 *      which waits for an in-flight writer, re-checks the row it left (READ
 *      COMMITTED) and then keeps every writer off it until this commit ends;
 *    - a record read as absent: a placeholder row inserted with
 *      `ON CONFLICT DO NOTHING` and deleted at once. The insert waits for any
 *      in-flight insert of the key and finds it if it committed; while this
 *      transaction lasts, a concurrent insert of the key waits on the
 *      placeholder's index entry (its inserter is still running), and then
 *      finds the row gone. No reader ever sees it: it is never committed
 *      alive;
 *    - an insert: `ON CONFLICT DO NOTHING`; an update or a delete:
 *      `WHERE version = expected`. A write that touches no row is a commit
 *      that landed after step 1.
 *    A check or write that fails here is returned as the answer if nothing
 *    has been written yet; otherwise `raise_conflict` rolls the statement
 *    back (the store reports either as the same conflict).
 * 3. The audit entries and outbox messages are appended in order; 0 is
 *    returned.
 *
 * Non-breaking: the signature is unchanged.
 */
export const exactCommit = `
CREATE OR REPLACE FUNCTION __SCHEMA__.apply_commit(
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
  item record;
  w integer;
  wrote boolean := false;
BEGIN
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

  FOR item IN
    SELECT u.pos, u.kind, u.id FROM (
      SELECT n AS pos, p_check_kinds[n] AS kind, p_check_ids[n] AS id FROM generate_series(1, checks) AS n
      UNION ALL
      SELECT checks + n, p_kinds[n], p_ids[n] FROM generate_series(1, writes) AS n
    ) AS u
    ORDER BY u.kind COLLATE "C", u.id COLLATE "C"
  LOOP
    IF item.pos <= checks THEN
      IF p_check_versions[item.pos] = 0 THEN
        INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
          VALUES (item.kind, item.id, item.kind || ':' || item.id, 1, '{}', stamp, stamp)
          ON CONFLICT DO NOTHING;
        IF FOUND THEN
          DELETE FROM __SCHEMA__.records WHERE kind = item.kind AND id = item.id;
        END IF;
      ELSE
        PERFORM FROM __SCHEMA__.records
          WHERE kind = item.kind AND id = item.id AND version = p_check_versions[item.pos]
          FOR SHARE;
      END IF;
    ELSE
      w := item.pos - checks;
      IF p_data[w] = '' THEN
        DELETE FROM __SCHEMA__.records WHERE kind = item.kind AND id = item.id AND version = p_expected[w];
      ELSIF p_expected[w] = 0 THEN
        INSERT INTO __SCHEMA__.records (kind, id, key, version, data, created_at, updated_at)
          VALUES (item.kind, item.id, item.kind || ':' || item.id, p_versions[w], p_data[w]::jsonb, stamp, stamp)
          ON CONFLICT DO NOTHING;
      ELSE
        UPDATE __SCHEMA__.records
          SET version = p_versions[w], data = p_data[w]::jsonb, updated_at = stamp,
              created_at = CASE WHEN p_keep[w] = 1 THEN created_at ELSE stamp END
          WHERE kind = item.kind AND id = item.id AND version = p_expected[w];
      END IF;
    END IF;
    IF NOT FOUND THEN
      IF wrote THEN
        PERFORM __SCHEMA__.raise_conflict(item.pos);
      END IF;
      RETURN item.pos;
    END IF;
    wrote := wrote OR item.pos > checks;
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
`;

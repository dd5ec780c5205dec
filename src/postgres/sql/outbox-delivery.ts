import type { SchemaName } from '../schema-name.js';
import { isoTimestamp } from './record-columns.js';

// The statements of outbox delivery (see OutboxDelivery and migrations/005-outbox-delivery.ts).
// Times are the server's (now()), so relays on several machines share one clock.

const UNSETTLED = `('pending', 'claimed')`;

const DUE = `((d.state = 'pending' AND d.next_attempt_at <= now()) OR (d.state = 'claimed' AND d.lease_until <= now()))`;
const HELD = (alias: string) => `(${alias}.state = 'claimed' AND ${alias}.lease_until > now())`;

/**
 * Claims up to $2 messages for relay $1 for $3 milliseconds, as runs: for
 * each key whose oldest unsettled message (its head) is due, the head and the
 * key's later unsettled messages, oldest first.
 *
 * - `heads` locks the due heads `FOR UPDATE SKIP LOCKED`: a relay takes a
 *   key's messages only while it holds its head, so two relays never take
 *   one key at once, and a head another relay is claiming right now is
 *   skipped (its later messages are not heads: they wait). A head is not
 *   taken while a later message of its key is held by a live claim — an
 *   older message that became pending behind it (a replay, or a transaction
 *   that committed late without touching the user's row) waits for that run.
 * - `runs` adds each head's later unsettled messages up to the first one
 *   another relay holds (none should exist: only a head's holder claims its
 *   run, and a run shares its head's lease). One in its backoff goes with the
 *   run — the key's order matters more than the wait.
 * - the final UPDATE re-checks each row when it locks it: a row its previous
 *   holder settled meanwhile (acknowledged, dead) is skipped, and that is
 *   safe — settled rows are out of the key's order — while a row it failed
 *   or released is pending and is taken, so a run never has a gap.
 */
export const claimSql = (s: SchemaName) => `WITH heads AS (
  SELECT d.seq, d.key FROM ${s.quoted}.outbox_delivery d
  WHERE d.state IN ${UNSETTLED} AND ${DUE}
    AND NOT EXISTS (
      SELECT FROM ${s.quoted}.outbox_delivery e
      WHERE e.key = d.key AND e.state IN ${UNSETTLED} AND e.seq < d.seq)
    AND NOT EXISTS (
      SELECT FROM ${s.quoted}.outbox_delivery h
      WHERE h.key = d.key AND h.state = 'claimed' AND h.seq > d.seq AND h.lease_until > now())
  ORDER BY d.seq
  LIMIT $2::integer
  FOR UPDATE SKIP LOCKED
), runs AS (
  SELECT h.seq FROM heads h
  UNION ALL
  SELECT r.seq FROM heads h CROSS JOIN LATERAL (
    SELECT e.seq FROM ${s.quoted}.outbox_delivery e
    WHERE e.key = h.key AND e.state IN ${UNSETTLED} AND e.seq > h.seq
      AND e.seq < coalesce((
        SELECT min(x.seq) FROM ${s.quoted}.outbox_delivery x
        WHERE x.key = h.key AND x.state IN ${UNSETTLED} AND x.seq > h.seq AND ${HELD('x')}), 9223372036854775807)
    ORDER BY e.seq
    LIMIT $2::integer
  ) r
), chosen AS (
  SELECT seq FROM runs ORDER BY seq LIMIT $2::integer
), token AS (
  SELECT gen_random_uuid() AS claim
), claimed AS (
  UPDATE ${s.quoted}.outbox_delivery d
  SET state = 'claimed', attempts = d.attempts + 1, claim_token = token.claim, claimed_by = $1::text,
      lease_until = now() + $3::integer * interval '1 millisecond'
  FROM chosen c, token WHERE d.seq = c.seq AND d.state IN ${UNSETTLED} AND NOT ${HELD('d')}
  RETURNING d.seq, d.attempts, d.claim_token
)
SELECT o.seq, o.id, o.type AS topic, o.aggregateid AS key, o.payload::text AS payload,
       ${isoTimestamp('o.created_at')} AS created_at, c.attempts, c.claim_token::text AS claim
FROM claimed c JOIN ${s.quoted}.outbox o ON o.seq = c.seq
ORDER BY o.seq`;

/**
 * The held claims among ($1 seqs, $2 tokens, pairwise), locked in seq order,
 * skipping a row another statement has locked. Only a claim taking the row
 * over (its lease ran out) can hold it: the acknowledgement or release would
 * be refused a moment later anyway, and not waiting means it can never be
 * half of a deadlock with that claim. (A relay's own acknowledgement, release
 * and failures touch disjoint rows.)
 */
const heldInSeqOrder = (s: SchemaName) => `held AS (
  SELECT d.seq FROM ${s.quoted}.outbox_delivery d
  JOIN unnest($1::bigint[], $2::uuid[]) AS t(seq, claim) ON d.seq = t.seq AND d.claim_token = t.claim
  WHERE d.state = 'claimed'
  ORDER BY d.seq
  FOR UPDATE OF d SKIP LOCKED
)`;

/** Marks the messages of the held claims delivered; one row per message marked. */
export const acknowledgeSql = (s: SchemaName) => `WITH ${heldInSeqOrder(s)}
UPDATE ${s.quoted}.outbox_delivery d
SET state = 'delivered', settled_at = now(), claim_token = NULL
FROM held WHERE d.seq = held.seq
RETURNING d.seq`;

/** A failed delivery of a held claim: dead once it has had $3 attempts, else pending again after $4 ms. */
export const failSql = (s: SchemaName) => `UPDATE ${s.quoted}.outbox_delivery
SET state = CASE WHEN attempts >= $3::integer THEN 'dead' ELSE 'pending' END,
    settled_at = CASE WHEN attempts >= $3::integer THEN now() END,
    next_attempt_at = now() + $4::integer * interval '1 millisecond',
    last_error = $5::text, claim_token = NULL
WHERE seq = $1::bigint AND claim_token = $2::uuid AND state = 'claimed'
RETURNING state`;

/** Gives held claims back without counting the attempt. */
export const releaseSql = (s: SchemaName) => `WITH ${heldInSeqOrder(s)}
UPDATE ${s.quoted}.outbox_delivery d
SET state = 'pending', attempts = d.attempts - 1, claim_token = NULL, next_attempt_at = '-infinity'
FROM held WHERE d.seq = held.seq
RETURNING d.seq`;

/** Messages in state $1 after seq $2, at most $3, with their delivery state. */
export const inspectSql = (
  s: SchemaName,
) => `SELECT d.seq, o.id, o.type AS topic, o.aggregateid AS key, d.state, d.attempts,
       d.last_error, ${isoTimestamp('o.created_at')} AS created_at,
       CASE WHEN d.settled_at IS NULL THEN NULL ELSE ${isoTimestamp('d.settled_at')} END AS settled_at
FROM ${s.quoted}.outbox_delivery d JOIN ${s.quoted}.outbox o ON o.seq = d.seq
WHERE d.state = $1::text AND d.seq > $2::bigint
ORDER BY d.seq LIMIT $3::integer`;

/** Dead or delivered messages ($1 seqs) made pending again, attempts reset. */
export const replaySql = (s: SchemaName) => `UPDATE ${s.quoted}.outbox_delivery
SET state = 'pending', attempts = 0, claim_token = NULL, claimed_by = NULL, lease_until = NULL,
    next_attempt_at = '-infinity', last_error = NULL, settled_at = NULL
WHERE seq = ANY($1::bigint[]) AND state IN ('dead', 'delivered')
RETURNING seq`;

/** Delivered messages settled before $1, deleted with their outbox rows; one row: how many. */
export const pruneSql = (s: SchemaName) => `WITH gone AS (
  DELETE FROM ${s.quoted}.outbox_delivery WHERE state = 'delivered' AND settled_at < $1::timestamptz RETURNING seq
), removed AS (
  DELETE FROM ${s.quoted}.outbox o USING gone WHERE o.seq = gone.seq RETURNING 1
)
SELECT count(*) AS n FROM removed`;

/** Messages per state, and the commit time of the oldest unsettled one (name '#oldest', in `at`). */
export const deliveryStatsSql = (s: SchemaName) => `SELECT state AS name, count(*) AS n, NULL AS at
FROM ${s.quoted}.outbox_delivery GROUP BY state
UNION ALL
SELECT '#oldest', 0, (
  SELECT ${isoTimestamp('o.created_at')} FROM ${s.quoted}.outbox_delivery d JOIN ${s.quoted}.outbox o ON o.seq = d.seq
  WHERE d.state IN ${UNSETTLED} ORDER BY d.seq LIMIT 1)`;

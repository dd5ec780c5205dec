/**
 * Version 5: outbox delivery. Each message's delivery state lives beside it,
 * in `outbox_delivery` (the outbox rows themselves stay insert-only, as a
 * change-data-capture relay expects). An AFTER INSERT trigger on the outbox
 * records every new message as pending in the same transaction, so a message
 * becomes claimable exactly when it commits — never before, and never missed
 * because an earlier `seq` committed late — and code from before this version
 * (which knows nothing of delivery) enqueues correctly too. Messages already
 * in the outbox start pending.
 *
 * - `state`: pending → claimed (by a relay, until `lease_until`) → delivered,
 *   or back to pending after a failure (not before `next_attempt_at`), or dead
 *   after too many attempts; replay makes dead or delivered ones pending.
 * - two partial indexes over the unsettled messages: by seq (what to claim
 *   next) and by key and seq (is an earlier message of this key unsettled?).
 *
 * The migration first locks the outbox against writers (SHARE ROW
 * EXCLUSIVE waits for every transaction that has written to it and holds off
 * new ones until the migration commits), so no message of older code still
 * in flight can commit between the copy and the trigger, unenqueued.
 *
 * The trigger function runs as the schema's owner (SECURITY DEFINER, with a
 * fixed search_path and qualified names), so the application's runtime role
 * needs no privilege on the delivery table to commit: only relays change it.
 *
 * Non-breaking: older code never reads the table, and its messages are
 * enqueued by the trigger.
 */
export const outboxDelivery = `
LOCK TABLE __SCHEMA__.outbox IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE __SCHEMA__.outbox_delivery (
  seq bigint PRIMARY KEY,
  key text COLLATE "C" NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  claim_token uuid,
  claimed_by text,
  lease_until timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
  last_error text,
  settled_at timestamptz
);
CREATE INDEX outbox_delivery_unsettled ON __SCHEMA__.outbox_delivery (seq) WHERE state IN ('pending', 'claimed');
CREATE INDEX outbox_delivery_unsettled_by_key ON __SCHEMA__.outbox_delivery (key, seq) WHERE state IN ('pending', 'claimed');

INSERT INTO __SCHEMA__.outbox_delivery (seq, key) SELECT seq, aggregateid FROM __SCHEMA__.outbox;

CREATE FUNCTION __SCHEMA__.outbox_enqueued() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO __SCHEMA__.outbox_delivery (seq, key) VALUES (NEW.seq, NEW.aggregateid);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER outbox_enqueued AFTER INSERT ON __SCHEMA__.outbox
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.outbox_enqueued();
`;

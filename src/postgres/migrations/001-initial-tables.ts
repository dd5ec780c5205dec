/**
 * Version 1: the generic tables. `__SCHEMA__` stands for the quoted schema
 * name; the checksum is taken over this text as written.
 *
 * - records: one row per record, primary key (kind, id). `id` and `kind`
 *   use the "C" collation so keyset paging orders by code point on every
 *   database, whatever its default collation.
 * - audit: append-only (a trigger rejects UPDATE and DELETE).
 * - outbox: insert-only, with the columns Debezium's outbox event router
 *   reads (id, aggregatetype, aggregateid, type, payload), plus `seq` for
 *   polling and the writing transaction's id (`xid`) so a reader can avoid
 *   passing a transaction that has not committed yet.
 */
export const initialTables = `
CREATE TABLE __SCHEMA__.records (
  kind text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE TABLE __SCHEMA__.audit (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id uuid NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  record_key text COLLATE "C",
  detail jsonb NOT NULL,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX audit_by_record_key ON __SCHEMA__.audit (record_key, seq) WHERE record_key IS NOT NULL;

CREATE TABLE __SCHEMA__.outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id uuid NOT NULL,
  aggregatetype text NOT NULL,
  aggregateid text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE FUNCTION __SCHEMA__.reject_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'user-engine: the % table does not allow %', TG_TABLE_NAME, TG_OP USING ERRCODE = '55000';
END
$fn$;
CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON __SCHEMA__.audit
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_change();
CREATE TRIGGER outbox_is_insert_only BEFORE UPDATE ON __SCHEMA__.outbox
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_change();
`;

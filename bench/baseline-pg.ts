import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The floor: the same logical work as the engine's four measured operations,
 * hand-written on node-postgres with the least SQL we could write — one
 * statement per operation, named prepared statements — over the same tables
 * (a schema migrated by the store, so the same indexes and triggers). It
 * writes the same rows: the user record, its email index record, one audit
 * entry and one outbox message per command.
 */
export function baselineOperations(pool: pg.Pool, schema: string) {
  const s = `"${schema}"`;
  const register = `WITH r AS (
      INSERT INTO ${s}.records (kind, id, key, version, data, created_at, updated_at)
      VALUES ('user', $1, 'user:' || $1, 1, $2::jsonb, now(), now()),
             ('user-email', $3, 'user-email:' || $3, 1, jsonb_build_object('userId', $1::text), now(), now())
    ), a AS (
      INSERT INTO ${s}.audit (id, at, actor, action, record_key, detail)
      VALUES ($4::uuid, now(), 'bench', 'user.registered', 'user:' || $1, $5::jsonb)
    )
    INSERT INTO ${s}.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
    VALUES ($6::uuid, 'user', $1, 'user.registered', $5::jsonb, now())`;
  const update = `WITH u AS (
      UPDATE ${s}.records SET data = jsonb_set(data, '{displayName}', to_jsonb($2::text)), version = version + 1, updated_at = now()
      WHERE kind = 'user' AND id = $1 AND data->>'status' <> 'erased' RETURNING version
    ), a AS (
      INSERT INTO ${s}.audit (id, at, actor, action, record_key, detail)
      SELECT $3::uuid, now(), 'bench', 'user.profile_updated', 'user:' || $1,
             jsonb_build_object('userId', $1::text, 'version', u.version, 'fields', '["displayName"]'::jsonb) FROM u
    )
    INSERT INTO ${s}.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
    SELECT $4::uuid, 'user', $1, 'user.profile_updated',
           jsonb_build_object('userId', $1::text, 'version', u.version, 'fields', '["displayName"]'::jsonb), now() FROM u`;
  const get = `SELECT version, data FROM ${s}.records WHERE kind = 'user' AND id = $1`;
  const find = `SELECT u.version, u.data FROM ${s}.records e
    JOIN ${s}.records u ON u.kind = 'user' AND u.id = e.data->>'userId'
    WHERE e.kind = 'user-email' AND e.id = $1`;
  const named = (name: string, text: string, values: unknown[]) =>
    pool.query({ name: `baseline_${name}_${schema}`, text, values });

  return {
    async registerUser(id: string, email: string): Promise<void> {
      const now = new Date().toISOString();
      const data = {
        status: 'active',
        email,
        handle: null,
        displayName: null,
        locale: null,
        roles: [],
        identities: [],
        attributes: {},
        suspendedReason: null,
        createdAt: now,
        updatedAt: now,
      };
      const detail = JSON.stringify({ userId: id, version: 1, fields: ['email'] });
      await named('register', register, [
        id,
        JSON.stringify(data),
        email.toLowerCase(),
        randomUUID(),
        detail,
        randomUUID(),
      ]);
    },
    async updateProfile(id: string, displayName: string): Promise<void> {
      await named('update', update, [id, displayName, randomUUID(), randomUUID()]);
    },
    async getUser(id: string): Promise<unknown> {
      return (await named('get', get, [id])).rows[0];
    },
    async findUserByEmail(email: string): Promise<unknown> {
      return (await named('find', find, [email.toLowerCase()])).rows[0];
    },
  };
}

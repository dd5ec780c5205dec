// Outbox delivery on the live server, where concurrency is real: the
// interleavings a single-connection store cannot produce. Each case names the
// guarantee (docs/outbox.md) it defends and builds the interleaving by hand
// with connections of its own.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { UserEngineAdapter } from '../src/authjs/index.js';
import { UserEngine } from '../src/index.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import { scratchSchemaName } from '../src/testing/index.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const pool = url === undefined ? undefined : new pg.Pool({ connectionString: url, max: 8 });
const schemas: string[] = [];
const ctx = { actor: 'test' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freshSchema(): string {
  const schema = scratchSchemaName('ue_delivery');
  schemas.push(schema);
  return schema;
}

describe.skipIf(pool === undefined)('outbox delivery (live)', () => {
  const db = pool as pg.Pool;
  afterAll(async () => {
    for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  it('a message older code commits while the delivery migration runs is enqueued, not left behind', async () => {
    const schema = freshSchema();
    const older = SCHEMA_VERSIONS.filter((v) => v.version < 5);
    await new PostgresUserEngineStore({ connection: fromNodePostgres(db), schema, schemaVersions: older }).migrate();
    // Older code, inside the application's transaction: its message is written, not yet committed.
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const oldEngine = new UserEngine({
        store: new PostgresUserEngineStore({ connection: fromNodePostgres(client), schema, schemaVersions: older }),
      });
      await oldEngine.registerUser(ctx, { email: 'in-flight@example.com' });
      const store = new PostgresUserEngineStore({ connection: fromNodePostgres(db), schema });
      const migrating = store.migrate();
      await pause(300); // the migration is now waiting for the open transaction
      await client.query('COMMIT');
      await migrating;
      const counts = await db.query(
        `SELECT (SELECT count(*) FROM "${schema}".outbox)::int AS messages,
                (SELECT count(*) FROM "${schema}".outbox_delivery)::int AS enqueued`,
      );
      expect(counts.rows[0]).toEqual({ messages: 1, enqueued: 1 });
      expect((await store.delivery.stats()).pending).toBe(1);
    } finally {
      client.release();
    }
  });

  it('a late acknowledgement never waits for a claim taking its messages over (no deadlock, no wait)', async () => {
    const schema = freshSchema();
    const store = new PostgresUserEngineStore({ connection: fromNodePostgres(db), schema });
    await store.migrate();
    await store.transaction(async (tx) => {
      for (let n = 0; n < 3; n++) tx.enqueueOutbox({ topic: 'note.sent', key: 'k1', payload: { n } });
    });
    const run = await store.delivery.claim({ relay: 'late', leaseMs: 1000 });
    expect(run).toHaveLength(3);
    await pause(1100);
    // Another statement holds the run's middle row, as a claim taking the run over would.
    const other = await db.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT FROM "${schema}".outbox_delivery WHERE seq = $1 FOR UPDATE`, [run[1]?.seq]);
      // Let go after a second, so an acknowledgement that waits (the bug) ends and fails the timing.
      const released = pause(1000).then(() => other.query('ROLLBACK'));
      const started = Date.now();
      const acknowledged = await store.delivery.acknowledge(run);
      const waited = Date.now() - started;
      await released;
      expect(waited, 'the acknowledgement waited for the lock').toBeLessThan(500);
      expect(acknowledged, 'the locked row is skipped, the others are acknowledged').toBe(2);
    } finally {
      other.release();
    }
  });

  it('a sign-out inside the application’s transaction takes its seq in the user’s commit order', async () => {
    const schema = freshSchema();
    const store = new PostgresUserEngineStore({ connection: fromNodePostgres(db), schema });
    await store.migrate();
    const engine = new UserEngine({ store });
    const adapter = UserEngineAdapter(engine);
    const user = await engine.registerUser(ctx, { email: 'ada@example.com' });
    await adapter.createSession?.({
      sessionToken: 'tok-1',
      userId: user.id,
      expires: new Date(Date.now() + 86_400_000),
    });
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const inside = UserEngineAdapter(
        new UserEngine({ store: new PostgresUserEngineStore({ connection: fromNodePostgres(client), schema }) }),
      );
      await inside.deleteSession?.('tok-1');
      // A command on the same user while the sign-out is not yet committed: it must wait for it.
      let granted = false;
      const grant = engine.grantRole(ctx, user.id, 'editor').then(() => {
        granted = true;
      });
      await pause(300);
      expect(granted, 'the command did not wait for the sign-out holding the user').toBe(false);
      await client.query('COMMIT');
      await grant;
    } finally {
      client.release();
    }
    const { rows } = await db.query<{ type: string }>(`SELECT type FROM "${schema}".outbox ORDER BY seq`);
    expect(rows.map((r) => r.type)).toEqual([
      'user.registered',
      'user.signed_in',
      'user.signed_out',
      'user.role_granted',
    ]);
  });
});

// The shared suites and the live-only proofs against a real PostgreSQL server,
// through each driver the store supports. Needs USER_ENGINE_TEST_DATABASE_URL;
// without it every test here is reported as skipped, with the reason.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, UserEngine, UserEngineError } from '../src/index.js';
import {
  fromNodePostgres,
  fromPostgresJs,
  type PostgresConnection,
  PostgresUserEngineStore,
} from '../src/postgres/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import { runEngineScenarios, runStoreConformance } from '../src/testing/index.js';
import { freshSchemaName, postgresFactory } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const ALL_VERSIONS = SCHEMA_VERSIONS.map((v) => v.version);
const live = url !== undefined && url !== '';
if (!live) {
  console.warn('live PostgreSQL suites SKIPPED: set USER_ENGINE_TEST_DATABASE_URL to run them (CI always does)');
}
const liveDescribe = live ? describe : describe.skip;
const runner = { describe: liveDescribe, it, skip: it.skip };

const pool = live ? new pg.Pool({ connectionString: url, max: 10 }) : undefined;
const client = live ? new pg.Client({ connectionString: url }) : undefined;
const sql = live ? postgres(url, { max: 10, onnotice: () => {} }) : undefined;
const bouncerUrl = process.env.USER_ENGINE_TEST_PGBOUNCER_URL;
const bouncerPool = live && bouncerUrl ? new pg.Pool({ connectionString: bouncerUrl, max: 10 }) : undefined;
// max_pipeline is a postgres.js option its type declarations leave out; 0 keeps it from wedging PgBouncer.
const bouncerSql =
  live && bouncerUrl
    ? postgres(bouncerUrl, { max: 10, max_pipeline: 0, onnotice: () => {} } as postgres.Options<Record<string, never>>)
    : undefined;
const makeStore = (connection: PostgresConnection, schema: string) =>
  new PostgresUserEngineStore({ connection, schema });

if (live && pool && client && sql) {
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all([pool.end(), client.end(), sql.end(), bouncerPool?.end(), bouncerSql?.end()]);
  });

  const variants: [string, PostgresConnection][] = [
    ['pg-pool', pool],
    ['pg-client (one shared connection)', client],
    ['postgres-js', fromPostgresJs(sql)],
  ];
  // Through a transaction-mode PgBouncer, with named prepared statements (and postgres.js pipelining) off.
  if (bouncerPool !== undefined && bouncerSql !== undefined) {
    variants.push(
      ['pgbouncer pg-pool', fromNodePostgres(bouncerPool, { prepare: false })],
      ['pgbouncer postgres-js', fromPostgresJs(bouncerSql, { prepare: false })],
    );
  }
  for (const [name, connection] of variants) {
    const factory = postgresFactory(name.split(' ')[0]?.replace('-', '') ?? 'live', connection, makeStore);
    runStoreConformance(runner, `live ${name}`, factory, {
      capabilities: ['schemaBackdoor', 'indexedRecord', 'indexedPair', 'olderCode', 'delivery'],
    });
    runEngineScenarios(runner, `live ${name}`, factory);
  }
} else {
  liveDescribe('live PostgreSQL', () => {
    it.skip('runs only with USER_ENGINE_TEST_DATABASE_URL set', () => {});
  });
}

liveDescribe('live PostgreSQL: concurrency, connection loss, provider transactions', () => {
  const schemas: string[] = [];
  const admin = () => pool as pg.Pool;
  const newSchema = () => {
    const schema = freshSchemaName('proof');
    schemas.push(schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of schemas) await admin().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('four pools migrating one fresh schema at once apply each version exactly once', async () => {
    const schema = newSchema();
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      const reports = await Promise.all(
        pools.map((p) => new PostgresUserEngineStore({ connection: p, schema }).migrate()),
      );
      const applied = reports.flatMap((r) => r.applied).sort();
      expect(applied).toEqual(ALL_VERSIONS);
      for (const r of reports) expect(r.currentVersion).toBe(LATEST_SCHEMA_VERSION);
      const rows = await admin().query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows.rows.map((r) => r.version)).toEqual(ALL_VERSIONS);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('50 concurrent conflicting commits: exactly one wins each race, no partial writes', async () => {
    const store = new PostgresUserEngineStore({ connection: admin(), schema: newSchema() });
    await store.migrate();
    await store.transaction(async (tx) => tx.put({ kind: 'note', id: 'counter', data: { n: 0 }, expectedVersion: 0 }));
    // A barrier: every transaction has read the counter before any commits, so exactly one can win.
    let reads = 0;
    let release = () => {};
    const allRead = new Promise<void>((r) => {
      release = r;
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        store.transaction(async (tx) => {
          const current = await tx.get('note', 'counter');
          reads += 1;
          if (reads === 50) release();
          await allRead;
          tx.put({ kind: 'note', id: 'counter', data: { n: i }, expectedVersion: current?.version ?? 0 });
          tx.put({ kind: 'note', id: `side-${i}`, data: { i }, expectedVersion: 0 });
          tx.appendAudit({ actor: 'racer', action: 'note.raced', recordKey: 'note:counter', detail: { i } });
          tx.enqueueOutbox({ topic: 'note.raced', key: 'counter', payload: { i } });
        }),
      ),
    );
    const wins = outcomes.filter((o) => o.status === 'fulfilled').length;
    for (const o of outcomes)
      if (o.status === 'rejected') expect(UserEngineError.is(o.reason, 'version_conflict')).toBe(true);
    const counts = await store.recordCounts();
    const counter = await store.getRecord('note', 'counter');
    // Every winner bumped the counter exactly once and wrote exactly its own side record, audit and event.
    expect(wins).toBe(1);
    expect(counter?.version).toBe(2);
    expect(counts).toEqual({ records: { note: 1 + wins }, audit: wins, outboxPending: wins });
  });

  it('50 concurrent registrations of one email through a pool: one user, 49 email_taken, no orphans', async () => {
    const store = new PostgresUserEngineStore({ connection: admin(), schema: newSchema() });
    await store.migrate();
    const engine = new UserEngine({ store });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        engine.registerUser(
          { actor: 'race' },
          { email: i % 2 ? 'same@example.com' : 'SAME@Example.com', handle: `racer_${i}` },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const codes = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as UserEngineError).code : 'ok'));
    expect(codes.filter((c) => c !== 'email_taken' && c !== 'ok')).toEqual([]);
    expect(await store.recordCounts()).toEqual({
      records: { user: 1, 'user-email': 1, 'user-handle': 1 },
      audit: 1,
      outboxPending: 1,
    });
  });

  it('a backend terminated mid-call fails that call as store_unavailable, and the next call works', async () => {
    const schema = newSchema();
    const victimPool = new pg.Pool({ connectionString: url, max: 1 });
    victimPool.on('error', () => {}); // the pool reports the dead client; the store reports the failed call
    const store = new PostgresUserEngineStore({ connection: victimPool, schema });
    const locker = await admin().connect();
    try {
      await store.migrate();
      await store.recordCounts();
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".records IN ACCESS EXCLUSIVE MODE`);
      const inFlight = store.getRecord('note', 'blocked').then(
        () => 'resolved',
        (e: unknown) => e,
      );
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        const found = await admin().query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`,
          [`%"${schema}".records%`],
        );
        pid = found.rows[0]?.pid;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(pid).toBeDefined();
      await admin().query('SELECT pg_terminate_backend($1)', [pid]);
      const error = await inFlight;
      expect(UserEngineError.is(error, 'store_unavailable')).toBe(true);
      expect((error as Error).cause).toBeDefined();
      await locker.query('ROLLBACK');
      expect(await store.getRecord('note', 'blocked')).toBeNull();
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      locker.release();
      await victimPool.end();
    }
  });

  it("a commit on a connection inside the provider's own transaction joins it (rollback undoes it)", async () => {
    const schema = newSchema();
    const own = await admin().connect();
    try {
      const store = new PostgresUserEngineStore({ connection: own, schema });
      await store.migrate();
      const engine = new UserEngine({ store });
      await own.query('BEGIN');
      const user = await engine.registerUser({ actor: 'provider' }, { email: 'joined@example.com' });
      expect((await engine.getUser(user.id))?.email).toBe('joined@example.com');
      await own.query('ROLLBACK');
      expect(await engine.getUser(user.id)).toBeNull();
      expect((await store.recordCounts()).audit).toBe(0);
      await own.query('BEGIN');
      const kept = await engine.registerUser({ actor: 'provider' }, { email: 'kept@example.com' });
      await own.query('COMMIT');
      expect((await engine.getUser(kept.id))?.email).toBe('kept@example.com');
    } finally {
      await own.query('ROLLBACK').catch(() => {});
      own.release();
    }
  });

  it('a conflict already committed is an answer on every commit path: nothing raised, a surrounding transaction stays usable', async () => {
    for (const commitPath of ['write-batch', 'apply-commit'] as const) {
      const own = await admin().connect();
      try {
        const store = new PostgresUserEngineStore({ connection: own, schema: newSchema(), commitPath });
        await store.migrate();
        const engine = new UserEngine({ store });
        const user = await engine.registerUser({ actor: 't' }, { email: 'answer@example.com', handle: 'answer' });
        await own.query('BEGIN');
        await expect(engine.registerUser({ actor: 't' }, { email: 'ANSWER@example.com' })).rejects.toMatchObject({
          code: 'email_taken',
        });
        await expect(
          store.transaction(async (tx) => {
            tx.put({ kind: 'user', id: user.id, data: {}, expectedVersion: 7 });
            tx.delete('user-handle', 'answer', 3);
          }),
        ).rejects.toMatchObject({ code: 'version_conflict' });
        // A raised error would have aborted the transaction (25P02 on every later statement).
        expect((await own.query('SELECT 1 AS ok')).rows[0]?.ok, commitPath).toBe(1);
        await engine.grantRole({ actor: 't' }, user.id, 'editor');
        await own.query('COMMIT');
        expect((await engine.getUser(user.id))?.roles).toEqual(['editor']);
      } finally {
        await own.query('ROLLBACK').catch(() => {});
        own.release();
      }
    }
  });

  it('records every outbox row with its transaction id, and the tables refuse to be rewritten', async () => {
    const schema = newSchema();
    const store = new PostgresUserEngineStore({ connection: admin(), schema });
    await store.migrate();
    const engine = new UserEngine({ store });
    await engine.registerUser({ actor: 't' }, { email: 'xid@example.com' });
    const rows = await admin().query(`SELECT xid::text AS xid, aggregatetype, type FROM "${schema}".outbox`);
    expect(rows.rows[0]).toMatchObject({ aggregatetype: 'user', type: 'user.registered' });
    expect(Number(rows.rows[0]?.xid)).toBeGreaterThan(0);
    await expect(admin().query(`UPDATE "${schema}".outbox SET type = 'x'`)).rejects.toMatchObject({ code: '55000' });
    await expect(admin().query(`DELETE FROM "${schema}".audit`)).rejects.toMatchObject({ code: '55000' });
  });

  it('a schema dropped under a ready store turns calls into schema_not_ready, and migrate() rebuilds it', async () => {
    const schema = newSchema();
    const store = new PostgresUserEngineStore({ connection: admin(), schema });
    await store.migrate();
    await store.recordCounts();
    await admin().query(`DROP SCHEMA "${schema}" CASCADE`);
    await expect(store.getRecord('note', 'x')).rejects.toMatchObject({ code: 'schema_not_ready' });
    await expect(store.migrate()).resolves.toEqual({ applied: ALL_VERSIONS, currentVersion: LATEST_SCHEMA_VERSION });
    expect(await store.getRecord('note', 'x')).toBeNull();
  });
});

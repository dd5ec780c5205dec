// Production topologies on the live server: a server that stops answering
// (through a TCP proxy the test freezes), conflicts inside the application's
// own transaction, the cost of a routine conflict (connections and server-log
// lines), and — when USER_ENGINE_TEST_PGBOUNCER_URL points at a
// transaction-mode PgBouncer — named prepared statements failing fast with
// a message that says what to change.
import { existsSync, readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { UserEngine, UserEngineError } from '../src/index.js';
import {
  fromNodePostgres,
  fromPostgresJs,
  type PostgresConnection,
  PostgresUserEngineStore,
} from '../src/postgres/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL ?? '';
const pgbouncerUrl = process.env.USER_ENGINE_TEST_PGBOUNCER_URL ?? '';
const ctx = { actor: 'topology' };

function withPort(base: string, port: number): string {
  const u = new URL(base);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.href;
}

describe.skipIf(url === '')('topologies (live)', () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const schemas: string[] = [];
  const schema = () => {
    const name = scratchSchemaName('topo');
    schemas.push(name);
    return name;
  };
  afterAll(async () => {
    for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin.end();
  });

  describe('a server that stops answering: no call hangs, the next call works', () => {
    const drivers: [string, (proxyUrl: string) => { connection: PostgresConnection; end: () => Promise<void> }][] = [
      [
        'fromNodePostgres(pool)',
        (proxyUrl) => {
          const pool = new pg.Pool({ connectionString: proxyUrl, max: 4 });
          pool.on('error', () => {});
          return { connection: fromNodePostgres(pool), end: () => pool.end() };
        },
      ],
      [
        'a plain pg Pool',
        (proxyUrl) => {
          const pool = new pg.Pool({ connectionString: proxyUrl, max: 4 });
          pool.on('error', () => {});
          return { connection: pool, end: () => pool.end() };
        },
      ],
      [
        'fromPostgresJs(sql)',
        (proxyUrl) => {
          const sql = postgres(proxyUrl, { max: 4, onnotice: () => {} });
          return { connection: fromPostgresJs(sql), end: () => sql.end({ timeout: 1 }) };
        },
      ],
    ];
    for (const [name, open] of drivers) {
      it(name, async () => {
        const proxy = await startTcpProxy(Number(new URL(url).port || 5432));
        const { connection, end } = open(withPort(url, proxy.port));
        try {
          const store = new PostgresUserEngineStore({ connection, schema: schema(), timeoutMs: 800 });
          await store.migrate();
          const engine = new UserEngine({ store });
          const user = await engine.registerUser(ctx, { email: 'frozen@example.com' });
          proxy.freezeOpenConnections();
          const started = performance.now();
          const error = await Promise.all([engine.getUser(user.id), engine.getUser(user.id)]).catch((e: unknown) => e);
          const waited = performance.now() - started;
          expect(UserEngineError.is(error, 'store_unavailable'), String(error)).toBe(true);
          expect((error as Error).message).toMatch(/did not answer within 800 ms|timeout/i);
          expect(waited).toBeLessThan(5_000);
          // New connections flow again: the store works without a restart.
          const again = await engine.getUser(user.id);
          expect(again?.email).toBe('frozen@example.com');
        } finally {
          await proxy.close();
          await end().catch(() => {});
        }
      });
    }
  });

  describe("conflicts inside the application's own transaction", () => {
    it('an already-committed conflict is answered: the transaction stays usable', async () => {
      const name = schema();
      const own = await admin.connect();
      try {
        const store = new PostgresUserEngineStore({ connection: own, schema: name });
        await store.migrate();
        const engine = new UserEngine({ store });
        await engine.registerUser(ctx, { email: 'answered@example.com' });
        await own.query('BEGIN');
        const error = await engine.registerUser(ctx, { email: 'ANSWERED@example.com' }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'email_taken', transactionAborted: false });
        await own.query('COMMIT');
      } finally {
        own.release();
      }
    });

    it('a raced conflict is reported as the conflict, marked aborted, and not retried into 25P02', async () => {
      const name = schema();
      const first = await admin.connect();
      const second = new pg.Client({ connectionString: url });
      await second.connect();
      try {
        const setup = new PostgresUserEngineStore({ connection: first, schema: name });
        await setup.migrate();
        const a = new UserEngine({ store: setup });
        const b = new UserEngine({ store: new PostgresUserEngineStore({ connection: second, schema: name }) });
        await b.getUser('00000000-0000-7000-8000-000000000000'); // readiness checked before the race
        await first.query('BEGIN');
        await second.query('BEGIN');
        await a.registerUser(ctx, { email: 'raced@example.com' }); // uncommitted: holds the key
        // b's commit probes (nothing committed yet), then waits on a's insert of the key.
        const racing = b.registerUser(ctx, { email: 'Raced@example.com' }).catch((e: unknown) => e);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.query('COMMIT');
        const error = await racing;
        expect(error).toMatchObject({ code: 'email_taken', transactionAborted: true });
        await expect(second.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
        await second.query('ROLLBACK');
      } finally {
        await first.query('ROLLBACK').catch(() => {});
        first.release();
        await second.end();
      }
    });

    it('a raced version conflict is not retried on the aborted transaction either', async () => {
      const name = schema();
      const first = await admin.connect();
      const second = new pg.Client({ connectionString: url });
      await second.connect();
      try {
        const setup = new PostgresUserEngineStore({ connection: first, schema: name });
        await setup.migrate();
        const a = new UserEngine({ store: setup });
        const b = new UserEngine({ store: new PostgresUserEngineStore({ connection: second, schema: name }) });
        const user = await a.registerUser(ctx, { email: 'versions@example.com' });
        await b.getUser(user.id);
        await first.query('BEGIN');
        await second.query('BEGIN');
        await a.grantRole(ctx, user.id, 'first');
        const racing = b.grantRole(ctx, user.id, 'second').catch((e: unknown) => e);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.query('COMMIT');
        const error = await racing;
        expect(error).toMatchObject({ code: 'version_conflict', kind: 'user', transactionAborted: true });
        await second.query('ROLLBACK');
        expect((await a.getUser(user.id))?.roles).toEqual(['first']);
      } finally {
        await first.query('ROLLBACK').catch(() => {});
        first.release();
        await second.end();
      }
    });
  });

  it('50 registrations of one email cost no connection and (almost) no server-log line, on every driver', async () => {
    const log = await serverLog(admin);
    const report: string[] = [];
    const variants: [
      string,
      () => { connection: PostgresConnection; counts: () => string; end: () => Promise<void> },
    ][] = [
      ['a plain pg Pool', () => countedPool((pool) => pool)],
      ['fromNodePostgres(pool)', () => countedPool((pool) => fromNodePostgres(pool))],
      [
        'fromPostgresJs(sql)',
        () => {
          const sql = postgres(url, { max: 20, onnotice: () => {} });
          return { connection: fromPostgresJs(sql), counts: () => '', end: () => sql.end() };
        },
      ],
    ];
    for (const [name, open] of variants) {
      const { connection, counts, end } = open();
      try {
        const store = new PostgresUserEngineStore({ connection, schema: schema() });
        await store.migrate();
        const engine = new UserEngine({ store });
        await engine.registerUser(ctx, { email: 'warm-up@example.com' });
        const before = counts();
        const start = log === null ? 0 : statSync(log).size;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            engine.registerUser(ctx, { email: i % 2 ? 'same@example.com' : 'SAME@example.com' }),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'email_taken' });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const errorLines =
          log === null
            ? null
            : readFileSync(log, 'utf8')
                .slice(start)
                .split('\n')
                .filter((line) => / ERROR: /.test(line)).length;
        report.push(
          `${name}: ${counts() || 'connections not observable'} (before: ${before}); server-log ERROR lines ${errorLines ?? 'n/a'}`,
        );
        if (errorLines !== null) expect(errorLines, name).toBeLessThanOrEqual(5);
        if (counts() !== '') expect(counts().match(/removed (\d+)/)?.[1]).toBe(before.match(/removed (\d+)/)?.[1]);
      } finally {
        await end();
      }
    }
    console.log(`50 same-email registrations:\n  ${report.join('\n  ')}`);
  });

  it('a runtime role with the documented grants runs every command, and cannot migrate or rewrite the audit log', async () => {
    const grants = readFileSync(new URL('../docs/durable-store.md', import.meta.url), 'utf8').match(
      /<!-- runtime-grants -->\n```sql\n([\s\S]*?)```/,
    )?.[1];
    expect(grants, 'the grants block in docs/durable-store.md').toBeDefined();
    const name = schema();
    const role = `ue_runtime_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const owner = new PostgresUserEngineStore({ connection: admin, schema: name });
    await owner.migrate();
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    const runtimeUrl = new URL(url);
    runtimeUrl.username = role;
    const runtimePool = new pg.Pool({ connectionString: runtimeUrl.href, max: 4 });
    try {
      await admin.query((grants ?? '').replaceAll('user_engine', `"${name}"`).replaceAll('app_runtime', `"${role}"`));
      const store = new PostgresUserEngineStore({ connection: fromNodePostgres(runtimePool), schema: name });
      const engine = new UserEngine({ store });
      const user = await engine.registerUser(ctx, { email: 'runtime@example.com', handle: 'runtime' });
      await engine.updateProfile(ctx, user.id, { displayName: 'Runtime' });
      await engine.linkIdentity(ctx, user.id, { provider: 'github', subject: 'r1' });
      expect((await engine.findUserByEmail('RUNTIME@example.com'))?.id).toBe(user.id);
      await store.transaction(async (tx) => {
        expect(await tx.get('slot', 'absent')).toBeNull(); // an absent-record check (apply_commit's placeholder)
        tx.put({ kind: 'slot', id: 'present', data: {}, expectedVersion: 0 });
      });
      await engine.eraseUser(ctx, user.id);
      expect(await store.readAudit()).toHaveLength(4);
      expect(await store.recordCounts()).toMatchObject({ audit: 4, outboxPending: 4 });
      // What it cannot do.
      const fresh = new PostgresUserEngineStore({ connection: fromNodePostgres(runtimePool), schema: `${name}_x` });
      await expect(fresh.migrate()).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(runtimePool.query(`DROP TABLE "${name}".records`)).rejects.toMatchObject({ code: '42501' });
      await expect(runtimePool.query(`DELETE FROM "${name}".audit`)).rejects.toMatchObject({ code: '42501' });
      await expect(runtimePool.query(`UPDATE "${name}".outbox_delivery SET state = 'delivered'`)).rejects.toMatchObject(
        {
          code: '42501',
        },
      );
    } finally {
      await runtimePool.end();
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE "${role}"`);
    }
  });

  it('a relay role with the documented grants claims, acknowledges, replays and prunes, and cannot touch users or audit', async () => {
    const grants = readFileSync(new URL('../docs/durable-store.md', import.meta.url), 'utf8').match(
      /<!-- relay-grants -->\n```sql\n([\s\S]*?)```/,
    )?.[1];
    expect(grants, 'the relay grants block in docs/durable-store.md').toBeDefined();
    const name = schema();
    const role = `ue_relay_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const owner = new PostgresUserEngineStore({ connection: admin, schema: name });
    await owner.migrate();
    await new UserEngine({ store: owner }).registerUser(ctx, { email: 'relayed@example.com' });
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    const relayUrl = new URL(url);
    relayUrl.username = role;
    const relayPool = new pg.Pool({ connectionString: relayUrl.href, max: 2 });
    try {
      await admin.query((grants ?? '').replaceAll('user_engine', `"${name}"`).replaceAll('app_relay', `"${role}"`));
      const store = new PostgresUserEngineStore({ connection: fromNodePostgres(relayPool), schema: name });
      const delivery = store.delivery;
      const claimed = await delivery.claim({ relay: 'r', leaseMs: 60_000 });
      expect(claimed).toHaveLength(1);
      expect(await delivery.acknowledge(claimed)).toBe(1);
      expect(await delivery.replay(claimed.map((m) => m.seq))).toBe(1);
      const again = await delivery.claim({ relay: 'r', leaseMs: 60_000 });
      expect(await delivery.acknowledge(again)).toBe(1);
      expect(await delivery.prune({ deliveredBefore: new Date(Date.now() + 60_000).toISOString() })).toBe(1);
      expect(await delivery.stats()).toMatchObject({ delivered: 0, pending: 0 });
      await expect(relayPool.query(`SELECT * FROM "${name}".records`)).rejects.toMatchObject({ code: '42501' });
      await expect(relayPool.query(`SELECT * FROM "${name}".audit`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await relayPool.end();
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE "${role}"`);
    }
  });

  describe.skipIf(pgbouncerUrl === '')('behind PgBouncer in transaction mode', () => {
    it('with named prepared statements on, calls fail fast with a message that says what to change (or pass)', async () => {
      const pool = new pg.Pool({ connectionString: pgbouncerUrl, max: 8 });
      pool.on('error', () => {});
      try {
        const store = new PostgresUserEngineStore({
          connection: fromNodePostgres(pool),
          schema: schema(),
          timeoutMs: 10_000,
        });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, async (_, i) => {
            await store.migrate();
            const engine = new UserEngine({ store });
            const user = await engine.registerUser(ctx, { email: `bouncer${i}@example.com` });
            await engine.updateProfile(ctx, user.id, { displayName: 'Bounced' });
            return engine.getUser(user.id);
          }),
        );
        const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        for (const failure of failures) {
          expect(UserEngineError.is(failure.reason, 'store_unavailable'), String(failure.reason)).toBe(true);
          expect((failure.reason as Error).message).toMatch(/prepare: false/);
        }
      } finally {
        await pool.end();
      }
    });

    it('with prepared statements off, 200 concurrent register + update + get sequences all succeed, on both wrappers', async () => {
      const pool = new pg.Pool({ connectionString: pgbouncerUrl, max: 20 });
      // postgres.js pipelines queries on a busy connection, which wedges a transaction-mode pooler.
      // (max_pipeline is a postgres.js option its type declarations leave out.)
      const sql = postgres(pgbouncerUrl, { max: 20, max_pipeline: 0, onnotice: () => {} } as postgres.Options<
        Record<string, never>
      >);
      try {
        for (const connection of [
          fromNodePostgres(pool, { prepare: false }),
          fromPostgresJs(sql, { prepare: false }),
        ]) {
          const store = new PostgresUserEngineStore({ connection, schema: schema(), timeoutMs: 20_000 });
          await store.migrate();
          const engine = new UserEngine({ store });
          const outcomes = await Promise.allSettled(
            Array.from({ length: 200 }, async (_, i) => {
              const user = await engine.registerUser(ctx, { email: `seq${i}@example.com` });
              await engine.updateProfile(ctx, user.id, { displayName: `Seq ${i}` });
              return engine.getUser(user.id);
            }),
          );
          expect(
            outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
          ).toEqual([]);
        }
      } finally {
        await Promise.all([pool.end(), sql.end()]);
      }
    });
  });
});

/** A pg Pool that counts the connections it opens and removes. */
function countedPool(wrap: (pool: pg.Pool) => PostgresConnection) {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  let connects = 0;
  let removes = 0;
  pool.on('connect', () => {
    connects += 1;
  });
  pool.on('remove', () => {
    removes += 1;
  });
  return {
    connection: wrap(pool),
    counts: () => `connected ${connects}, removed ${removes}`,
    end: () => pool.end(),
  };
}

async function serverLog(pool: pg.Pool): Promise<string | null> {
  const { rows } = await pool.query(`SELECT current_setting('cluster_name') AS cluster`);
  const cluster = String(rows[0]?.cluster ?? '');
  const file = `/var/log/postgresql/postgresql-${cluster.replace('/', '-')}.log`;
  return cluster !== '' && existsSync(file) ? file : null;
}

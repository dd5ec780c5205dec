import { createServer } from 'node:net';
import pg from 'pg';
import { UserEngine, UserEngineError } from '../src/index.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { checkUserInvariants } from '../src/testing/index.js';
import { startTcpProxy } from '../test/support/tcp-proxy.js';
import { startReplicatedPair } from './clusters.js';

export interface FailoverReport {
  /** Registrations the callers saw succeed. */
  acknowledged: number;
  /** Acknowledged registrations missing on the promoted replica: must be 0. */
  lost: number;
  /** Calls that failed as store_unavailable around the switch (in flight, or sent while no primary answered). */
  unavailable: number;
  /** Acknowledged after the switch: the store works again without a restart. */
  acknowledgedAfterSwitch: number;
  /** From the primary's crash to the first acknowledged command on the new primary. */
  unavailableWindowMs: number;
  /** Anything but success or store_unavailable: must be empty. */
  unexpected: string[];
  invariantFailures: string[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Commands run through a connection the test repoints (a TCP proxy in front
 * of the primary); mid-stream the primary crashes, its synchronous replica is
 * promoted and the proxy points at it. Every command acknowledged before the
 * switch must be on the new primary; commands in flight fail as
 * store_unavailable; after the switch the same store works again.
 */
export async function runFailover(options: { beforeMs: number; afterMs: number; workers: number }): Promise<FailoverReport> {
  const pair = startReplicatedPair(await freePort(), await freePort());
  const proxy = await startTcpProxy(pair.primaryPort);
  const pool = new pg.Pool({
    connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
    max: options.workers,
    connectionTimeoutMillis: 2_000,
  });
  pool.on('error', () => {});
  try {
    const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), schema: 'failover', timeoutMs: 3_000 });
    await store.migrate();
    const engine = new UserEngine({ store });
    const acknowledged: { id: string; at: number }[] = [];
    const unexpected: string[] = [];
    let unavailable = 0;
    let stop = false;
    const workers = Array.from({ length: options.workers }, async (_, worker) => {
      for (let n = 0; !stop; n++) {
        try {
          const user = await engine.registerUser({ actor: 'failover' }, { email: `w${worker}-${n}@failover.example` });
          acknowledged.push({ id: user.id, at: performance.now() });
        } catch (error) {
          if (UserEngineError.is(error, 'store_unavailable')) {
            unavailable += 1;
            await new Promise((resolve) => setTimeout(resolve, 50));
          } else unexpected.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, options.beforeMs));
    const crashedAt = performance.now();
    pair.crashPrimary();
    pair.promoteReplica();
    proxy.retarget(pair.replicaPort);
    const switchedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.afterMs));
    stop = true;
    await Promise.all(workers);

    const firstAfter = acknowledged.find((a) => a.at > switchedAt);
    const check = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${pair.replicaPort}/postgres` });
    await check.connect();
    const found = await check.query(
      `SELECT count(*)::int AS n FROM failover.records WHERE kind = 'user' AND id = ANY($1::text[])`,
      [acknowledged.map((a) => a.id)],
    );
    await check.end();
    const invariants = await checkUserInvariants(store, {
      acknowledged: acknowledged.length,
      unacknowledged: unavailable,
    });
    return {
      acknowledged: acknowledged.length,
      lost: acknowledged.length - Number(found.rows[0]?.n ?? 0),
      unavailable,
      acknowledgedAfterSwitch: acknowledged.filter((a) => a.at > switchedAt).length,
      unavailableWindowMs: Math.round((firstAfter?.at ?? Number.NaN) - crashedAt),
      unexpected,
      invariantFailures: invariants.failures,
    };
  } finally {
    await pool.end().catch(() => {});
    await proxy.close();
    pair.destroy();
  }
}

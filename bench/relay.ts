// The relay rows: outbox to broker, end to end, on the live server. For each
// broker, in one run: the engine's own 16-caller registerUser rate (no relay);
// then the same load with a relay delivering (does it keep up: delivered/s,
// and is the lag bounded — its p99 in the last third of the phase against the
// first); then registrations paced at half that rate (lag p50/p99). Lag is
// from commit (the message's created_at) to the broker's acknowledgement of
// the publish. Brokers that do not answer are reported as skipped.
import pg from 'pg';
import { createOutboxRelay, type OutboxRelay, UserEngine } from '../src/index.js';
import { type BrokerPublisher, openBrokerPublisher } from '../src/outbox/brokers/index.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import { percentile, round2 } from './measure.js';
import type { BenchOptions } from './options.js';
import type { Skipped } from './report.js';
import { nextEmail } from './variants.js';

const ctx = { actor: 'bench' };
const CALLERS = 16;

/** Where each broker is, with names of the run's own. */
function brokerUrls(tag: string): Record<string, string> {
  return {
    nats: `nats://127.0.0.1:4222?stream=UE_BENCH_${tag}&subject_prefix=uebench${tag}`,
    amqp: `amqp://guest:guest@127.0.0.1:5672?exchange=ue-bench-${tag}&queue=ue-bench-${tag}`,
    redis: `redis://127.0.0.1:6379?stream=ue-bench:${tag}&dedupe_window_ms=60000`,
  };
}

export interface RelayPhase {
  /** Registrations per second the callers achieved. */
  offeredPerSec: number;
  /** Messages the relay got acknowledged by the broker per second, over the phase. */
  deliveredPerSec: number;
  lagP50Ms: number;
  lagP99Ms: number;
  /** Lag p99 of messages committed in the first and in the last third of the phase: bounded lag keeps them close. */
  lagP99FirstThirdMs: number;
  lagP99LastThirdMs: number;
  /** Messages not yet delivered when the load stopped, and how long the relay took to deliver them. */
  backlogAtEnd: number;
  drainMs: number;
}

export interface RelayResult {
  broker: string;
  /** The engine's own registerUser rate at 16 callers, measured just before, without a relay. */
  engineRegisterPerSec: number;
  /** The relay alone: a backlog (what the engine-only phases wrote) delivered per second, nothing else running. */
  drainPerSec: number;
  fullRate: RelayPhase;
  halfRate: RelayPhase;
  /**
   * The target: the relay alone delivers at least the engine's own
   * rate; with both running, lag stays bounded (last third's p99 within 2× the
   * first third's, or under 100 ms; a backlog under half a second of load);
   * at half the engine's rate, p99 lag is under 100 ms.
   */
  meetsTarget: boolean;
}

/** Runs `CALLERS` registering callers for `ms`, at most `perSec` in all (unpaced when undefined). */
async function registerLoad(engine: UserEngine, ms: number, perSec?: number): Promise<number> {
  const end = performance.now() + ms;
  const started = performance.now();
  let done = 0;
  const interval = perSec === undefined ? 0 : 1000 / perSec;
  let next = started;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < end) {
        if (interval > 0) {
          const at = next;
          next += interval;
          const wait = at - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (performance.now() >= end) break;
        }
        await engine.registerUser(ctx, { email: nextEmail('relay') });
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** One broker: a schema of its own, the engine on a pool of 16, a relay on a pool of 4. */
async function measureBroker(
  url: string,
  broker: string,
  publisher: BrokerPublisher,
  ms: number,
): Promise<RelayResult> {
  const schema = scratchSchemaName('bench_relay');
  const pool = new pg.Pool({ connectionString: url, max: CALLERS });
  const relayPool = new pg.Pool({ connectionString: url, max: 4 });
  const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), schema });
  const relayStore = new PostgresUserEngineStore({ connection: fromNodePostgres(relayPool), schema });
  let relay: OutboxRelay | undefined;
  try {
    await store.migrate();
    const engine = new UserEngine({ store });
    await registerLoad(engine, Math.min(1000, ms)); // warm-up
    const engineRegisterPerSec = await registerLoad(engine, ms);
    // Drain what the engine-only phases left, unmeasured.
    let samples: { committedAt: number; lag: number }[] = [];
    relay = createOutboxRelay({
      store: relayStore,
      relayId: `bench-${broker}`,
      publish: async (message, context) => {
        await publisher.publish(message, context);
        const committedAt = Date.parse(message.createdAt);
        samples.push({ committedAt, lag: Date.now() - committedAt });
      },
    });
    // Capacity: the backlog the engine-only phases left, delivered with nothing else running.
    const backlog = (await relayStore.delivery.stats()).pending;
    const drainStarted = performance.now();
    relay.start();
    await drain(relayStore, 120_000);
    const drainPerSec = Math.round((backlog * 1000) / (performance.now() - drainStarted));
    const phase = async (perSec?: number): Promise<RelayPhase> => {
      samples = [];
      const delivered0 = relay?.counts().delivered ?? 0;
      const started = Date.now();
      const offeredPerSec = await registerLoad(engine, ms, perSec);
      const loadEnd = Date.now();
      const deliveredDuring = (relay?.counts().delivered ?? 0) - delivered0;
      const backlogAtEnd = (await relayStore.delivery.stats()).pending;
      const drainStart = performance.now();
      await drain(relayStore, 120_000);
      const drainMs = Math.round(performance.now() - drainStart);
      const lags = samples.map((s) => s.lag);
      const third = (loadEnd - started) / 3;
      const p99Of = (from: number, to: number) =>
        round2(
          percentile(
            samples.filter((s) => s.committedAt >= from && s.committedAt < to).map((s) => s.lag),
            99,
          ),
        );
      return {
        offeredPerSec: Math.round(offeredPerSec),
        deliveredPerSec: Math.round((deliveredDuring * 1000) / (loadEnd - started)),
        lagP50Ms: round2(percentile(lags, 50)),
        lagP99Ms: round2(percentile(lags, 99)),
        lagP99FirstThirdMs: p99Of(started, started + third),
        lagP99LastThirdMs: p99Of(loadEnd - third, loadEnd),
        backlogAtEnd,
        drainMs,
      };
    };
    const fullRate = await phase();
    const halfRate = await phase(engineRegisterPerSec / 2);
    const bounded =
      fullRate.lagP99LastThirdMs <= Math.max(100, 2 * fullRate.lagP99FirstThirdMs) &&
      fullRate.backlogAtEnd <= Math.max(500, fullRate.offeredPerSec / 2);
    return {
      broker,
      engineRegisterPerSec: Math.round(engineRegisterPerSec),
      drainPerSec,
      fullRate,
      halfRate,
      meetsTarget: bounded && drainPerSec >= engineRegisterPerSec && halfRate.lagP99Ms < 100,
    };
  } finally {
    await relay?.stop();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
    await relayPool.end();
  }
}

async function drain(store: PostgresUserEngineStore, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await store.delivery.stats();
    if (stats.pending + stats.claimed === 0) return;
    if (Date.now() > deadline) throw new Error(`the relay did not drain: ${JSON.stringify(stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every broker that answers, one after another; the others are reported as skipped. */
export async function measureRelays(options: BenchOptions): Promise<{ results: RelayResult[]; skipped: Skipped[] }> {
  const results: RelayResult[] = [];
  const skipped: Skipped[] = [];
  if (options.databaseUrl === undefined) return { results, skipped };
  const tag = Date.now().toString(36);
  const ms = options.mode === 'quick' ? 1500 : 6000;
  for (const [broker, brokerUrl] of Object.entries(brokerUrls(tag))) {
    let publisher: BrokerPublisher;
    try {
      publisher = await openBrokerPublisher(brokerUrl);
    } catch (error) {
      skipped.push({ store: `relay ${broker}`, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    try {
      results.push(await measureBroker(options.databaseUrl, broker, publisher, ms));
    } finally {
      await cleanUp(broker, tag, publisher);
    }
  }
  return { results, skipped };
}

/** Deletes what the run declared on the broker. */
async function cleanUp(broker: string, tag: string, publisher: BrokerPublisher): Promise<void> {
  await publisher.close().catch(() => undefined);
  try {
    if (broker === 'nats') {
      const { connect } = await import('nats');
      const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
      await (await nc.jetstreamManager()).streams.delete(`UE_BENCH_${tag}`).catch(() => undefined);
      await nc.close();
    } else if (broker === 'amqp') {
      const amqp = await import('amqplib');
      const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
      const channel = await connection.createChannel();
      await channel.deleteQueue(`ue-bench-${tag}`);
      await channel.deleteExchange(`ue-bench-${tag}`);
      await connection.close();
    } else {
      const { createClient } = await import('redis');
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      await client.del(`ue-bench:${tag}`);
      await client.close();
    }
  } catch {
    // Best effort: a run's names are its own, and Redis's de-duplication keys expire.
  }
}

export function printRelays(results: readonly RelayResult[]): void {
  if (results.length === 0) return;
  console.log('\nrelay (live server → broker, 16 registering callers; lag = commit → broker acknowledgement):');
  const header = [
    'broker',
    'engine reg/s',
    'relay alone/s',
    'full: offered/s',
    'delivered/s',
    'lag p50',
    'p99',
    'p99 1st⅓',
    'p99 last⅓',
    'backlog',
    'half: offered/s',
    'lag p50',
    'p99',
    'target',
  ];
  const lines = results.map((r) => [
    r.broker,
    String(r.engineRegisterPerSec),
    String(r.drainPerSec),
    String(r.fullRate.offeredPerSec),
    String(r.fullRate.deliveredPerSec),
    r.fullRate.lagP50Ms.toFixed(1),
    r.fullRate.lagP99Ms.toFixed(1),
    r.fullRate.lagP99FirstThirdMs.toFixed(1),
    r.fullRate.lagP99LastThirdMs.toFixed(1),
    String(r.fullRate.backlogAtEnd),
    String(r.halfRate.offeredPerSec),
    r.halfRate.lagP50Ms.toFixed(1),
    r.halfRate.lagP99Ms.toFixed(1),
    r.meetsTarget ? 'met' : 'NOT MET',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cols: string[]) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(fmt(line));
}

// The relay proof: a concurrent workload writes events while relay processes
// (the CLI's `relay`) are SIGKILLed, the broker becomes unreachable, two relays
// run at once and a long transaction commits after later ones; a consumer
// subscribed through the broker must then have every event, in per-user order.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { connect as connectNats } from 'nats';
import pg from 'pg';
import { createClient } from 'redis';
import { parseUserEvent, UserEngine, UserEngineError } from '../src/index.js';
import { openBrokerPublisher } from '../src/outbox/brokers/index.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { startTcpProxy } from '../test/support/tcp-proxy.js';
import { amqpConsumer, type Consumer, natsConsumer, redisConsumer } from './consumers.js';

export type BrokerName = 'nats' | 'amqp' | 'redis';

export interface RelayProofOptions {
  broker: BrokerName;
  databaseUrl: string;
  /** SIGKILLs of relay processes, spread over the workload. */
  kills: number;
  workloadMs: number;
  /** Concurrent engine callers. */
  workers: number;
  /** Users the workload keeps changing concurrently, so per-user order is at stake. */
  hotUsers: number;
  /** How long the broker is unreachable, mid-stream. */
  outageMs: number;
  /** How long the long transaction stays open while later ones commit. */
  longTransactionMs: number;
  /** The relays' lease: a killed relay's claims are delivered again after it. */
  leaseMs?: number;
  log?: (line: string) => void;
}

export interface RelayProofReport {
  broker: BrokerName;
  /** Events committed to the outbox (read from the tables). */
  written: number;
  /** Messages the consumer received, counting copies. */
  received: number;
  /** Copies beyond the first of a message (by outbox id). */
  duplicates: number;
  /** Copies that arrived after a later event of the same user. */
  lateDuplicates: number;
  /** Events committed but never received: must be 0. */
  lost: number;
  /** Users whose events, in first-arrival order, are not in version order: must be 0. */
  reordered: number;
  /** Received messages that were never written: must be 0. */
  unknown: number;
  /** Messages the store holds as dead letters: must be 0. */
  dead: number;
  kills: number;
  relaysStarted: number;
  /** Relays that exited 3 (the broker unreachable as they started) and were started again, as a supervisor would. */
  restartsAfterExit3: number;
  /** Relay processes that exited on their own (not killed, not stopped by the proof): must be 0. */
  relayCrashes: number;
  /** Each crash: the relay, its exit code and the end of its stderr. */
  crashReports: string[];
  /** Exit codes of the running relays stopped with SIGTERM at the end: all 0. */
  gracefulExitCodes: number[];
  /**
   * Relays the end caught while still starting (no `started` line yet, so
   * nothing claimed). Each must exit 0 or, if Node had not yet run the relay's
   * code, die of the SIGTERM itself; anything else is a crash.
   */
  stoppedWhileStarting: number;
  outageMs: number;
  /** The long transaction's events, and how many events committed while it was open. */
  longTransaction: { events: number; committedMeanwhile: number };
  /** Commands the workload saw succeed. */
  commands: number;
  /** From the end of the workload until the store had nothing left to deliver. */
  drainMs: number;
  ms: number;
}

/** What must hold; JetStream and Redis de-duplicate, so their consumers see no copy either. */
export function proofFailures(r: RelayProofReport): string[] {
  const failures: string[] = [];
  if (r.lost !== 0) failures.push(`${r.lost} events lost`);
  if (r.reordered !== 0) failures.push(`${r.reordered} users saw events out of order`);
  if (r.unknown !== 0) failures.push(`${r.unknown} unknown messages`);
  if (r.dead !== 0) failures.push(`${r.dead} dead letters`);
  if (r.relayCrashes !== 0) failures.push(`${r.relayCrashes} relays exited on their own`);
  if (r.gracefulExitCodes.some((c) => c !== 0)) failures.push(`a relay stopped by SIGTERM exited ${r.gracefulExitCodes.join(',')}`);
  if (r.broker !== 'amqp' && r.duplicates !== 0) failures.push(`${r.duplicates} duplicates despite de-duplication`);
  if (r.kills === 0 || r.longTransaction.committedMeanwhile === 0) failures.push('the faults did not happen');
  return failures;
}

/** A name part unique to this run. */
const suffix = () => randomBytes(4).toString('hex');

interface Namespace {
  /** The URL the relays use (through the proxy). */
  relayUrl: (proxyPort: number) => string;
  /** The broker's own port. */
  port: number;
  consume: () => Promise<Consumer>;
  cleanup: () => Promise<void>;
}

function namespace(broker: BrokerName): Namespace {
  const id = suffix();
  if (broker === 'nats') {
    const stream = `UE_PROOF_${id}`;
    const prefix = `ueproof${id}`;
    return {
      port: 4222,
      relayUrl: (port) => `nats://127.0.0.1:${port}?stream=${stream}&subject_prefix=${prefix}`,
      consume: () => natsConsumer('nats://127.0.0.1:4222', stream),
      cleanup: async () => {
        const nc = await connectNats({ servers: 'nats://127.0.0.1:4222' });
        await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
        await nc.close();
      },
    };
  }
  if (broker === 'amqp') {
    const name = `ue-proof-${id}`;
    return {
      port: 5672,
      relayUrl: (port) => `amqp://guest:guest@127.0.0.1:${port}?exchange=${name}&queue=${name}`,
      consume: () => amqpConsumer('amqp://guest:guest@127.0.0.1:5672', name),
      cleanup: async () => {
        const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
        const channel = await connection.createChannel();
        await channel.deleteQueue(name);
        await channel.deleteExchange(name);
        await connection.close();
      },
    };
  }
  const stream = `ue-proof:${id}`;
  return {
    port: 6379,
    relayUrl: (port) => `redis://127.0.0.1:${port}?stream=${encodeURIComponent(stream)}&dedupe_window_ms=600000`,
    consume: () => redisConsumer('redis://127.0.0.1:6379', stream),
    cleanup: async () => {
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      await client.del(stream);
      for await (const keys of client.scanIterator({ MATCH: `{${stream}}:seen:*`, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys);
      }
      await client.close();
    },
  };
}

/** The built CLI, from the sources (vitest) or from the compiled tools (.build/relay-proof). */
const CLI = [join(import.meta.dirname, '..', 'dist', 'cli', 'main.js'), join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')].find(
  (path) => existsSync(path),
) ?? 'dist/cli/main.js';

/** Runs the proof for one broker and reports what the consumer saw. */
export async function runRelayProof(options: RelayProofOptions): Promise<RelayProofReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const leaseMs = options.leaseMs ?? 1000;
  const schema = `relay_proof_${options.broker}_${suffix()}`;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.workers + 4 });
  pool.on('error', () => undefined);
  const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), schema });
  const ns = namespace(options.broker);
  const proxy = await startTcpProxy(ns.port);
  const relays = new Set<ChildProcess>();
  /** Relays the proof itself ends: SIGTERMed at the end (or SIGKILLed on the way out), and SIGKILLed on purpose. */
  const stopping = new Set<ChildProcess>();
  const killed = new WeakSet<ChildProcess>();
  const crashes: string[] = [];
  let relaysStarted = 0;
  let restartsAfterExit3 = 0;
  let finished = false;
  let consumer: Consumer | undefined;
  try {
    await store.migrate();
    // Declares the stream, exchange and queue before anything is published, so the consumer can start first.
    await (await openBrokerPublisher(ns.relayUrl(ns.port))).close();
    consumer = await ns.consume();

    const startRelay = () => {
      const n = ++relaysStarted;
      const child = spawn(
        process.execPath,
        [
          CLI,
          'relay',
          '--to',
          ns.relayUrl(proxy.port),
          '--database-url',
          options.databaseUrl,
          '--schema',
          schema,
          '--relay-id',
          `proof-${n}`,
          '--lease-ms',
          String(leaseMs),
          '--json',
          '--interval-ms',
          '500',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // With --json the relay prints a line as it starts delivering (its signal handling long in place).
      child.stdout?.once('data', () => running.add(child));
      child.stdout?.resume();
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child.on('exit', (code, signal) => {
        relays.delete(child);
        if (stopping.has(child) || killed.has(child)) return;
        if (signal !== null) {
          // Only the proof's own SIGKILLs and final SIGTERMs may end a relay by a signal.
          crashes.push(`relay ${n} died of ${signal}: ${stderr.trim()}`);
          return;
        }
        if (code === 3 && !finished) {
          // What a supervisor does with "unavailable at the start" (a relay started while the broker was away).
          restartsAfterExit3++;
          setTimeout(() => {
            if (!finished) startRelay();
          }, 300);
          return;
        }
        crashes.push(`relay ${n} exited ${code}: ${stderr.trim()}`);
      });
      relays.add(child);
    };
    const running = new WeakSet<ChildProcess>();
    startRelay();
    startRelay();

    const engine = new UserEngine({ store });
    const hot: string[] = [];
    for (let i = 0; i < options.hotUsers; i++) {
      hot.push((await engine.registerUser({ actor: 'proof' }, { email: `hot${i}@proof.example` })).id);
    }
    let commands = options.hotUsers;
    const unexpected: string[] = [];
    let stop = false;
    const workers = Array.from({ length: options.workers }, async (_, w) => {
      for (let n = 0; !stop; n++) {
        try {
          if (n % 4 === 0) await engine.registerUser({ actor: 'proof' }, { email: `w${w}-${n}@proof.example` });
          else {
            const id = hot[(w * 7 + n) % hot.length] as string;
            await engine.updateProfile({ actor: 'proof' }, id, { displayName: `v${n}` });
          }
          commands++;
        } catch (error) {
          if (!UserEngineError.is(error, 'version_conflict')) unexpected.push(String(error));
        }
      }
    });

    // The long transaction: the application's own, open while later commits land.
    const longTransaction = (async () => {
      await sleep(options.workloadMs * 0.1);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inside = new UserEngine({
          store: new PostgresUserEngineStore({ connection: fromNodePostgres(client), schema }),
        });
        const user = await inside.registerUser({ actor: 'proof' }, { email: 'long@proof.example' });
        await inside.updateProfile({ actor: 'proof' }, user.id, { displayName: 'long 1' });
        await inside.updateProfile({ actor: 'proof' }, user.id, { displayName: 'long 2' });
        const before = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`);
        await sleep(options.longTransactionMs);
        const after = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`);
        await client.query('COMMIT');
        commands += 3;
        return { events: 3, committedMeanwhile: Number(after.rows[0].n) - Number(before.rows[0].n) };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    })();

    // The broker goes away mid-stream.
    const outage = (async () => {
      await sleep(options.workloadMs * 0.5);
      log(`${options.broker}: broker unreachable for ${options.outageMs} ms`);
      proxy.cut();
      await sleep(options.outageMs);
      proxy.restore();
    })();

    // SIGKILLs at random moments, each followed by a new relay, so two run at once throughout.
    let kills = 0;
    const killer = (async () => {
      const gap = options.workloadMs / (options.kills + 1);
      while (kills < options.kills) {
        await sleep(gap * (0.5 + Math.random()));
        const victims = [...relays];
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (victim === undefined) continue;
        killed.add(victim);
        victim.kill('SIGKILL');
        kills++;
        startRelay();
      }
    })();

    await sleep(options.workloadMs);
    stop = true;
    await Promise.all(workers);
    const longResult = await longTransaction;
    await killer;
    await outage;
    if (unexpected.length > 0) throw new Error(`workload failed: ${unexpected.slice(0, 3).join('; ')}`);
    log(`${options.broker}: workload done (${commands} commands, ${kills} kills); draining`);

    const drainStart = performance.now();
    const delivery = store.delivery;
    for (;;) {
      const stats = await delivery.stats();
      if (stats.pending + stats.claimed === 0) break;
      if (performance.now() - drainStart > 120_000) throw new Error(`relays did not drain: ${JSON.stringify(stats)}`);
      await sleep(100);
    }
    const drainMs = Math.round(performance.now() - drainStart);
    finished = true;

    const gracefulExitCodes: number[] = [];
    let stoppedWhileStarting = 0;
    await Promise.all(
      [...relays].map(
        (child) =>
          new Promise<void>((resolve) => {
            stopping.add(child);
            const wasRunning = running.has(child);
            child.once('exit', (code, signal) => {
              if (wasRunning) gracefulExitCodes.push(code ?? -1);
              else if (code === 0 || signal === 'SIGTERM') stoppedWhileStarting++;
              else crashes.push(`relay stopped while starting exited ${code ?? signal}`);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );

    const written = await pool.query<{ id: string; key: string; version: string }>(
      `SELECT id::text AS id, aggregateid AS key, payload->>'version' AS version FROM "${schema}".outbox ORDER BY seq`,
    );
    const writtenIds = new Set(written.rows.map((r) => r.id));
    // The consumer catches up with the broker.
    const catchUp = performance.now();
    const sink = consumer;
    const receivedIds = () => new Set(sink.receipts.map((r) => (JSON.parse(r.body) as { id: string }).id));
    while (receivedIds().size < writtenIds.size && performance.now() - catchUp < 30_000) await sleep(50);
    await sleep(300);
    const receipts = [...sink.receipts];

    const seen = new Set<string>();
    const lastVersion = new Map<string, number>();
    const disordered = new Set<string>();
    let duplicates = 0;
    let lateDuplicates = 0;
    let unknown = 0;
    for (const receipt of receipts) {
      const event = parseUserEvent(JSON.parse(receipt.body));
      if (!writtenIds.has(event.id)) unknown++;
      if (!('version' in event)) continue; // the workload writes user changes only
      const latest = lastVersion.get(event.userId) ?? 0;
      if (seen.has(event.id)) {
        duplicates++;
        if (event.version < latest) lateDuplicates++;
        continue;
      }
      seen.add(event.id);
      if (event.version <= latest) disordered.add(event.userId);
      lastVersion.set(event.userId, Math.max(latest, event.version));
    }
    const lost = [...writtenIds].filter((id) => !seen.has(id)).length;
    const stats = await delivery.stats();
    return {
      broker: options.broker,
      written: writtenIds.size,
      received: receipts.length,
      duplicates,
      lateDuplicates,
      lost,
      reordered: disordered.size,
      unknown,
      dead: stats.dead,
      kills,
      relaysStarted,
      restartsAfterExit3,
      relayCrashes: crashes.length,
      crashReports: crashes,
      gracefulExitCodes,
      stoppedWhileStarting,
      outageMs: options.outageMs,
      longTransaction: longResult,
      commands,
      drainMs,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    finished = true;
    for (const child of relays) {
      stopping.add(child);
      child.kill('SIGKILL');
    }
    for (const line of crashes) log(line);
    await consumer?.close().catch(() => undefined);
    await proxy.close().catch(() => undefined);
    await ns.cleanup().catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

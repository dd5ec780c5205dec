// The in-memory store at scale: grow one store to a million users through
// the engine, then measure registerUser on one caller (beside a store of the
// seeded size, in alternating rounds), the heap each user costs, and the time
// of every page of a walk through all users with listUsers.
import { InMemoryUserEngineStore, UserEngine } from '../src/index.js';
import { median, percentile, round2, runCell } from './measure.js';
import type { BenchOptions } from './options.js';
import { nextEmail } from './variants.js';

export interface ScaleResult {
  /** Users in the store when registerUser was measured. */
  users: number;
  /** How long growing the store took, one registerUser at a time. */
  growSeconds: number;
  /** registerUser ops/s over each tenth of the growth, by the size at its end. */
  growth: { users: number; opsPerSec: number }[];
  /**
   * Heap growth per user after a full GC: the user record, its email index
   * record, one audit entry and one outbox message, and the ordered ids.
   * Null when the process was started without --expose-gc.
   */
  heapBytesPerUser: number | null;
  heapUsedMiB: number | null;
  registerUser: {
    concurrency: 1;
    opsPerSec: number;
    p50Ms: number;
    p99Ms: number;
    /** The same rounds on a store of the seeded size (it grows by what they add). */
    freshStoreOpsPerSec: number;
    /** opsPerSec ÷ freshStoreOpsPerSec. */
    ratioToFreshStore: number;
  };
  listUsers: { pageSize: number; pages: number; p50Ms: number; p99Ms: number; pagesPerSec: number };
}

const ctx = { actor: 'bench' };
const PAGE = 100;

export async function measureScale(options: BenchOptions): Promise<ScaleResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) console.log('scale: no global.gc (run node with --expose-gc): heap per user not measured');
  console.log(`scale: growing an in-memory store to ${options.scaleUsers} users…`);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const big = await emptyEngine();
  const { growth, seconds } = await grow(big, options.scaleUsers);
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;

  console.log(`scale: registerUser at ${options.scaleUsers} users, ${options.rounds} rounds of ${options.cellMs} ms…`);
  const fresh = await emptyEngine();
  await grow(fresh, options.seedUsers);
  const register = (engine: UserEngine) => () => engine.registerUser(ctx, { email: nextEmail('scale') });
  const bigCells = [];
  const freshCells = [];
  await runCell(register(big), 1, options.warmupMs, () => 0);
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which store goes first, as the main rounds alternate stores.
    if (round % 2 === 1) freshCells.push(await runCell(register(fresh), 1, options.cellMs, () => 0));
    bigCells.push(await runCell(register(big), 1, options.cellMs, () => 0));
    if (round % 2 === 0) freshCells.push(await runCell(register(fresh), 1, options.cellMs, () => 0));
  }
  const opsPerSec = Math.round(median(bigCells.map((c) => c.ops / c.seconds)));
  const freshStoreOpsPerSec = Math.round(median(freshCells.map((c) => c.ops / c.seconds)));
  const latencies = bigCells.flatMap((c) => c.latencies);

  console.log('scale: listUsers, every page of 100 from the first user to the last…');
  const pages = await walkPages(big);
  const pageSeconds = pages.reduce((s, ms) => s + ms, 0) / 1000;

  return {
    users: options.scaleUsers,
    growSeconds: round2(seconds),
    growth,
    heapBytesPerUser: gc === undefined ? null : Math.round((heapAfter - heapBefore) / options.scaleUsers),
    heapUsedMiB: gc === undefined ? null : Math.round(heapAfter / 2 ** 20),
    registerUser: {
      concurrency: 1,
      opsPerSec,
      p50Ms: round2(percentile(latencies, 50)),
      p99Ms: round2(percentile(latencies, 99)),
      freshStoreOpsPerSec,
      ratioToFreshStore: round2(opsPerSec / Math.max(1, freshStoreOpsPerSec)),
    },
    listUsers: {
      pageSize: PAGE,
      pages: pages.length,
      p50Ms: round2(percentile(pages, 50)),
      p99Ms: round2(percentile(pages, 99)),
      pagesPerSec: Math.round(pages.length / pageSeconds),
    },
  };
}

export function printScale(scale: ScaleResult): void {
  const r = scale.registerUser;
  const l = scale.listUsers;
  const heap =
    scale.heapBytesPerUser === null
      ? 'heap per user not measured (no --expose-gc)'
      : `${scale.heapBytesPerUser} heap bytes per user (${scale.heapUsedMiB} MiB heap in use)`;
  console.log(
    [
      '',
      `scale (in-memory store, ${scale.users} users, grown in ${scale.growSeconds} s):`,
      `  ${heap}`,
      `  registerUser, 1 caller: ${r.opsPerSec} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms` +
        ` (store of the seeded size in the same rounds: ${r.freshStoreOpsPerSec} ops/s; ratio ${r.ratioToFreshStore.toFixed(2)})`,
      `  listUsers, pages of ${l.pageSize} through all ${l.pages} pages: p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, ${l.pagesPerSec} pages/s`,
      `  registerUser ops/s while growing: ${scale.growth.map((g) => `${g.users}: ${g.opsPerSec}`).join(', ')}`,
    ].join('\n'),
  );
}

async function emptyEngine(): Promise<UserEngine> {
  const store = new InMemoryUserEngineStore();
  await store.migrate();
  return new UserEngine({ store });
}

/** Registers `users` users one at a time, noting the rate over each tenth. */
async function grow(engine: UserEngine, users: number) {
  const growth: { users: number; opsPerSec: number }[] = [];
  const step = Math.max(1, Math.floor(users / 10));
  const started = performance.now();
  let stepStarted = started;
  for (let n = 1; n <= users; n++) {
    await engine.registerUser(ctx, { email: nextEmail('scale') });
    if (n % step === 0 || n === users) {
      const now = performance.now();
      growth.push({ users: n, opsPerSec: Math.round(((n % step || step) * 1000) / (now - stepStarted)) });
      stepStarted = now;
    }
  }
  return { growth, seconds: (performance.now() - started) / 1000 };
}

/** The latency of every page of a walk through all users, in milliseconds. */
async function walkPages(engine: UserEngine): Promise<number[]> {
  const pages: number[] = [];
  let after: string | null = null;
  do {
    const t0 = performance.now();
    const page = await engine.listUsers(after === null ? { limit: PAGE } : { after, limit: PAGE });
    // The walk ends with an empty page when the count is a multiple of 100: not a page of users.
    if (page.users.length > 0) pages.push(performance.now() - t0);
    after = page.next;
  } while (after !== null);
  return pages;
}

// The benchmark: `npm run bench` (full) or `npm run bench -- --quick`.
// For registerUser, updateProfile, getUser and findUserByEmail, at 1 and 16
// concurrent callers, on the in-memory store, PGlite and (with
// USER_ENGINE_TEST_DATABASE_URL) a live server through a pg Pool and
// postgres.js, beside a hand-written node-postgres baseline. Warm-up, then
// alternating rounds; medians of ops/s, pooled p50/p99 latency, statements
// per operation counted on the wire. Writes bench/results/latest.json.
import { writeFileSync } from 'node:fs';
import { cpus, type as osType, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import postgres from 'postgres';
import { InMemoryUserEngineStore, UserEngine, type UserEngineStore } from '../src/index.js';
import {
  fromNodePostgres,
  fromPostgresJs,
  type PostgresConnection,
  PostgresUserEngineStore,
} from '../src/postgres/index.js';
import { CountingConnection, scratchSchemaName } from '../src/testing/index.js';
import { baselineOperations } from './baseline-pg.js';

type Operation = 'registerUser' | 'updateProfile' | 'getUser' | 'findUserByEmail';
type StoreName = 'memory' | 'pglite' | 'pg-pool' | 'postgres-js' | 'baseline-pg';
const OPERATIONS: Operation[] = ['registerUser', 'updateProfile', 'getUser', 'findUserByEmail'];
const CONCURRENCY = [1, 16] as const;

const quick = process.argv.includes('--quick');
/** `--only memory,pg-pool` measures a subset (for profiling); the full run measures every store. */
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg === undefined ? null : new Set(onlyArg.slice('--only='.length).split(','));
const wanted = (name: StoreName) => only === null || only.has(name);
const ROUNDS = 5;
const CELL_MS = quick ? 150 : 1000;
const WARMUP_MS = quick ? 150 : 800;
const SEED_USERS = 400;
const url = process.env.USER_ENGINE_TEST_DATABASE_URL;

interface Variant {
  name: StoreName;
  run: Record<Operation, (i: number, worker: number) => Promise<unknown>>;
  statements(): number;
  close(): Promise<void>;
}

interface Seeded {
  ids: string[];
  emails: string[];
}

const runTag = Date.now().toString(36);
let counter = 0;
const nextEmail = (store: string) => `${store}.${runTag}.${counter++}@bench.example.com`;

async function engineVariant(
  name: StoreName,
  store: UserEngineStore,
  statements: () => number,
  close: () => Promise<void>,
): Promise<Variant> {
  await store.migrate();
  const engine = new UserEngine({ store });
  const seeded: Seeded = { ids: [], emails: [] };
  for (let i = 0; i < SEED_USERS; i++) {
    const email = nextEmail(name);
    const user = await engine.registerUser({ actor: 'bench' }, { email });
    seeded.ids.push(user.id);
    seeded.emails.push(email);
  }
  const ctx = { actor: 'bench' };
  return {
    name,
    statements,
    close,
    run: {
      registerUser: () => engine.registerUser(ctx, { email: nextEmail(name) }),
      // Worker w only touches users w, w+16, ...: the figures measure the store, not conflicts.
      updateProfile: (i, worker) =>
        engine.updateProfile(ctx, seeded.ids[(worker + 16 * i) % SEED_USERS] as string, { displayName: `n${i}` }),
      getUser: (i) => engine.getUser(seeded.ids[i % SEED_USERS] as string),
      findUserByEmail: (i) => engine.findUserByEmail(seeded.emails[i % SEED_USERS] as string),
    },
  };
}

/** The Postgres store on `connection`, with every statement it sends counted on the way. */
function postgresVariant(
  name: StoreName,
  connection: PostgresConnection,
  schema: string | undefined,
  close: () => Promise<void>,
): Promise<Variant> {
  const counting = new CountingConnection(connection);
  const store = new PostgresUserEngineStore({ connection: counting, ...(schema === undefined ? {} : { schema }) });
  return engineVariant(name, store, () => counting.total, close);
}

async function baselineVariant(pool: pg.Pool, schema: string): Promise<Variant> {
  await new PostgresUserEngineStore({ connection: pool, schema }).migrate();
  const ops = baselineOperations(pool, schema);
  let statements = 0;
  const counted =
    <A extends unknown[]>(f: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      statements += 1;
      return f(...args);
    };
  const seeded: Seeded = { ids: [], emails: [] };
  for (let i = 0; i < SEED_USERS; i++) {
    const id = crypto.randomUUID();
    const email = nextEmail('baseline');
    await ops.registerUser(id, email);
    seeded.ids.push(id);
    seeded.emails.push(email);
  }
  const register = counted(ops.registerUser);
  const update = counted(ops.updateProfile);
  const get = counted(ops.getUser);
  const find = counted(ops.findUserByEmail);
  return {
    name: 'baseline-pg',
    statements: () => statements,
    close: async () => {},
    run: {
      registerUser: () => register(crypto.randomUUID(), nextEmail('baseline')),
      updateProfile: (i, worker) => update(seeded.ids[(worker + 16 * i) % SEED_USERS] as string, `n${i}`),
      getUser: (i) => get(seeded.ids[i % SEED_USERS] as string),
      findUserByEmail: (i) => find(seeded.emails[i % SEED_USERS] as string),
    },
  };
}

interface Cell {
  ops: number;
  seconds: number;
  latencies: number[];
  statements: number;
}

async function runCell(variant: Variant, op: Operation, concurrency: number, ms: number): Promise<Cell> {
  const before = variant.statements();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let i = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await variant.run[op](concurrency === 1 ? next++ : i++, worker);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ops: latencies.length, seconds, latencies, statements: variant.statements() - before };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const variants: Variant[] = [];
  const closers: (() => Promise<void>)[] = [];
  let server: Record<string, string> | null = null;

  if (wanted('memory'))
    variants.push(
      await engineVariant(
        'memory',
        new InMemoryUserEngineStore(),
        () => 0,
        async () => {},
      ),
    );
  if (wanted('pglite')) {
    const lite = new PGlite();
    variants.push(await postgresVariant('pglite', lite, undefined, () => lite.close()));
  }

  const schemas: string[] = [];
  let admin: pg.Pool | undefined;
  if (url) {
    admin = new pg.Pool({ connectionString: url, max: 2 });
    const settings = await admin.query(
      `SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit`,
    );
    server = settings.rows[0] as Record<string, string>;
    const schema = (name: string) => {
      const s = scratchSchemaName(`bench_${name}`);
      schemas.push(s);
      return s;
    };
    if (wanted('pg-pool')) {
      const pool = new pg.Pool({ connectionString: url, max: 16 });
      closers.push(() => pool.end());
      variants.push(await postgresVariant('pg-pool', fromNodePostgres(pool), schema('pool'), async () => {}));
    }
    if (wanted('postgres-js')) {
      const sql = postgres(url, { max: 16, onnotice: () => {} });
      closers.push(() => sql.end());
      variants.push(await postgresVariant('postgres-js', fromPostgresJs(sql), schema('js'), async () => {}));
    }
    if (wanted('baseline-pg')) {
      const basePool = new pg.Pool({ connectionString: url, max: 16 });
      closers.push(() => basePool.end());
      variants.push(await baselineVariant(basePool, schema('baseline')));
    }
  } else {
    console.log(
      'USER_ENGINE_TEST_DATABASE_URL is not set: measuring memory and PGlite only (no live server, no baseline).',
    );
  }

  console.log(`warming up (${WARMUP_MS} ms per cell)…`);
  for (const variant of variants) {
    for (const op of OPERATIONS) for (const c of CONCURRENCY) await runCell(variant, op, c, WARMUP_MS);
  }

  const results = new Map<string, Cell[]>();
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1}/${ROUNDS}`);
    // Alternate the order of stores each round so drift on a shared machine does not favour one.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const op of OPERATIONS) {
      for (const c of CONCURRENCY) {
        for (const variant of order) {
          const key = `${variant.name}|${op}|${c}`;
          const cells = results.get(key) ?? [];
          cells.push(await runCell(variant, op, c, CELL_MS));
          results.set(key, cells);
        }
      }
    }
  }

  const rows = [];
  for (const variant of variants) {
    for (const op of OPERATIONS) {
      for (const c of CONCURRENCY) {
        const cells = results.get(`${variant.name}|${op}|${c}`) ?? [];
        const latencies = cells.flatMap((cell) => cell.latencies);
        const ops = cells.reduce((n, cell) => n + cell.ops, 0);
        rows.push({
          store: variant.name,
          operation: op,
          concurrency: c,
          opsPerSec: Math.round(median(cells.map((cell) => cell.ops / cell.seconds))),
          p50Ms: round2(percentile(latencies, 50)),
          p99Ms: round2(percentile(latencies, 99)),
          statementsPerOp: round2(cells.reduce((n, cell) => n + cell.statements, 0) / Math.max(1, ops)),
        });
      }
    }
  }
  const baseline = new Map(
    rows.filter((r) => r.store === 'baseline-pg').map((r) => [`${r.operation}|${r.concurrency}`, r]),
  );
  const withRatio = rows.map((r) => {
    const base = baseline.get(`${r.operation}|${r.concurrency}`);
    const comparable = base !== undefined && (r.store === 'pg-pool' || r.store === 'postgres-js');
    return { ...r, ratioToBaseline: comparable ? round2(r.opsPerSec / (base?.opsPerSec ?? 1)) : null };
  });

  const machine = {
    node: process.version,
    os: `${osType()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    postgres: server,
    mode: quick ? 'quick' : 'full',
    rounds: ROUNDS,
    cellMs: CELL_MS,
    date: new Date().toISOString(),
  };
  const out = join(import.meta.dirname, '..', '..', 'bench', 'results', 'latest.json');
  writeFileSync(out, `${JSON.stringify({ machine, rows: withRatio }, null, 2)}\n`);

  const header = ['store', 'operation', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'stmts/op', '÷ baseline'];
  const lines = withRatio.map((r) => [
    r.store,
    r.operation,
    String(r.concurrency),
    String(r.opsPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.statementsPerOp),
    r.ratioToBaseline === null ? '' : r.ratioToBaseline.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cols: string[]) =>
    cols.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(fmt(line));
  console.log(`\nwritten to bench/results/latest.json (${machine.mode}, ${ROUNDS} rounds of ${CELL_MS} ms per cell)`);

  for (const variant of variants) await variant.close();
  for (const close of closers) await close();
  if (admin) {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

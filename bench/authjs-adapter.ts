// The Auth.js adapter rows: user-engine's adapter (`UserEngineAdapter` on a
// PostgresUserEngineStore) beside `@auth/pg-adapter`, on the live server, each
// on its own pg.Pool of 16 in a generated schema of its own, doing the four
// operations of bench/authjs-adapter-ops.ts at 1 and 16 callers. Warm-up, then
// alternating rounds of the main table's length; within a round both
// adapters' cells of one operation run side by side. Statements are counted
// on each pooled client, the same way for both. Setup that fails (the pg
// adapter not installed, say) is reported under `skipped`; the schemas are
// dropped however the step ends. Method and what the rows compare:
// docs/performance.md.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { UserEngineAdapter } from '../src/authjs/index.js';
import { UserEngine } from '../src/index.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { assertSchemaAbsent, scratchSchemaName } from '../src/testing/index.js';
import {
  AUTHJS_OPERATIONS,
  type AuthjsAdapterOps,
  type AuthjsOperation,
  pgAdapterOps,
  userEngineAdapterOps,
} from './authjs-adapter-ops.js';
import { type Cell, CONCURRENCY, median, percentile, round2, runCell } from './measure.js';
import type { BenchOptions } from './options.js';
import { countStatements } from './peers.js';
import type { Skipped } from './report.js';

const CALLERS = 16;
const USER_ENGINE = 'user-engine';
const PG_ADAPTER = 'pg-adapter';

export interface AuthjsAdapterRow {
  /** `user-engine` or `pg-adapter`. */
  adapter: string;
  operation: AuthjsOperation;
  concurrency: number;
  /** Median over the rounds. */
  opsPerSec: number;
  /** Over every operation of every round. */
  p50Ms: number;
  p99Ms: number;
  statementsPerOp: number;
  /** On user-engine's rows: its ops/s ÷ pg-adapter's, same operation and concurrency (above 1, user-engine is faster). */
  ratioToPgAdapter: number | null;
}

interface MeasuredAdapter {
  ops: AuthjsAdapterOps;
  statements(): number;
}

/** What the step has opened, to be closed and dropped however it ends. */
interface Opened {
  url: string;
  admin: pg.Pool;
  pools: pg.Pool[];
  schemas: string[];
}

export async function measureAuthjsAdapters(
  options: BenchOptions,
): Promise<{ rows: AuthjsAdapterRow[]; skipped: Skipped[] }> {
  if (options.databaseUrl === undefined) {
    console.log('authjs adapters: USER_ENGINE_TEST_DATABASE_URL is not set; not measured.');
    return { rows: [], skipped: [] };
  }
  const url = options.databaseUrl;
  const opened: Opened = { url, admin: new pg.Pool({ connectionString: url, max: 1 }), pools: [], schemas: [] };
  try {
    let adapters: MeasuredAdapter[];
    try {
      adapters = [await openUserEngine(opened), await openPgAdapter(opened)];
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      console.log(`authjs adapters: not measured: ${reason}`);
      return { rows: [], skipped: [{ store: 'authjs adapters', reason }] };
    }
    return { rows: summarize(adapters, await measureRounds(adapters, options)), skipped: [] };
  } finally {
    await closeAll(opened);
  }
}

/** user-engine's adapter, sealing account tokens as a deployment with a key does. */
async function openUserEngine(opened: Opened): Promise<MeasuredAdapter> {
  const schema = await claimSchema(opened, 'bench_authjs_ue');
  const pool = openPool(opened, {});
  const counter = countStatements(pool);
  const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), schema });
  await store.migrate();
  const adapter = UserEngineAdapter(new UserEngine({ store }), { tokenEncryptionKey: randomBytes(32) });
  return { ops: await userEngineAdapterOps(adapter), statements: () => counter.total };
}

/** The pg adapter on a pool whose connections start with its schema as their search_path, as its docs suggest. */
async function openPgAdapter(opened: Opened): Promise<MeasuredAdapter> {
  const schema = await claimSchema(opened, 'bench_authjs_pg');
  await opened.admin.query(`CREATE SCHEMA "${schema}"`);
  // Schema names from scratchSchemaName are [a-z0-9_]: safe unquoted in a startup option.
  const pool = openPool(opened, { options: `-c search_path=${schema}` });
  const counter = countStatements(pool);
  return { ops: await pgAdapterOps(pool, { createTables: true }), statements: () => counter.total };
}

/** A generated schema name, checked to be free before it is recorded for dropping: the step drops only its own. */
async function claimSchema(opened: Opened, prefix: string): Promise<string> {
  const schema = scratchSchemaName(prefix);
  await assertSchemaAbsent(opened.admin, schema);
  opened.schemas.push(schema);
  return schema;
}

function openPool(opened: Opened, config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ ...config, connectionString: opened.url, max: CALLERS });
  opened.pools.push(pool);
  return pool;
}

/** Ends the pools first (an idle connection holds no lock), then drops each schema, each step on its own. */
async function closeAll(opened: Opened): Promise<void> {
  await Promise.allSettled(opened.pools.map((pool) => pool.end()));
  for (const schema of opened.schemas) {
    await opened.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error: unknown) => {
      console.log(`authjs adapters: could not drop schema ${schema}: ${String(error)}`);
    });
  }
  await opened.admin.end();
}

type AdapterCells = Map<string, Cell[]>;
const key = (adapter: string, operation: AuthjsOperation, concurrency: number) =>
  `${adapter}|${operation}|${concurrency}`;

/** Every operation at every concurrency, both adapters' cells of one operation back to back. */
async function runRound(adapters: readonly MeasuredAdapter[], ms: number, cells?: AdapterCells): Promise<void> {
  for (const operation of AUTHJS_OPERATIONS) {
    for (const concurrency of CONCURRENCY) {
      for (const { ops, statements } of adapters) {
        const cell = await runCell((_i, worker) => ops[operation](worker), concurrency, ms, statements);
        if (cells === undefined) continue;
        const k = key(ops.name, operation, concurrency);
        cells.set(k, [...(cells.get(k) ?? []), cell]);
      }
    }
  }
}

/** A warm-up pass, then the main table's rounds; odd rounds run the adapters in reverse order. */
async function measureRounds(adapters: readonly MeasuredAdapter[], options: BenchOptions): Promise<AdapterCells> {
  console.log(`authjs adapters: warming up (${options.warmupMs} ms per cell)…`);
  await runRound(adapters, options.warmupMs);
  const cells: AdapterCells = new Map();
  for (let round = 0; round < options.rounds; round++) {
    console.log(`authjs adapters: round ${round + 1}/${options.rounds}`);
    const order = round % 2 === 0 ? adapters : [...adapters].reverse();
    await runRound(order, options.cellMs, cells);
  }
  return cells;
}

/** Rows by operation, then concurrency, user-engine's beside pg-adapter's. */
function summarize(adapters: readonly MeasuredAdapter[], cells: AdapterCells): AuthjsAdapterRow[] {
  const rows: AuthjsAdapterRow[] = [];
  for (const operation of AUTHJS_OPERATIONS) {
    for (const concurrency of CONCURRENCY) {
      const pair = adapters.map(({ ops }) =>
        rowOf(ops.name, operation, concurrency, cells.get(key(ops.name, operation, concurrency)) ?? []),
      );
      const reference = pair.find((row) => row.adapter === PG_ADAPTER);
      for (const row of pair) {
        if (row.adapter === USER_ENGINE && reference !== undefined && reference.opsPerSec > 0) {
          row.ratioToPgAdapter = round2(row.opsPerSec / reference.opsPerSec);
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

function rowOf(
  adapter: string,
  operation: AuthjsOperation,
  concurrency: number,
  cells: readonly Cell[],
): AuthjsAdapterRow {
  const latencies = cells.flatMap((cell) => cell.latencies);
  const ops = cells.reduce((n, cell) => n + cell.ops, 0);
  return {
    adapter,
    operation,
    concurrency,
    opsPerSec: Math.round(median(cells.map((cell) => cell.ops / cell.seconds))),
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    statementsPerOp: round2(cells.reduce((n, cell) => n + cell.statements, 0) / Math.max(1, ops)),
    ratioToPgAdapter: null,
  };
}

export function printAuthjsAdapters(rows: readonly AuthjsAdapterRow[]): void {
  if (rows.length === 0) return;
  console.log('\nAuth.js adapters (live server, each on its own pg.Pool of 16; statements counted on the wire):');
  const header = ['adapter', 'operation', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'stmts/op', 'user-engine ÷ pg-adapter'];
  const lines = rows.map((r) => [
    r.adapter,
    r.operation,
    String(r.concurrency),
    String(r.opsPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.statementsPerOp),
    r.ratioToPgAdapter === null ? '' : r.ratioToPgAdapter.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cols: string[]) =>
    cols.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(fmt(line));
}

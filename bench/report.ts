// From cells to rows: medians and pooled percentiles, the ratio columns, the
// printed table and bench/results/latest.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, type as osType, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AuthjsAdapterRow } from './authjs-adapter.js';
import { type Cell, type Cells, CONCURRENCY, cellKey, median, percentile, round2, type Variant } from './measure.js';
import type { BenchOptions } from './options.js';
import type { RelayResult } from './relay.js';
import type { ScaleResult } from './scale.js';

/**
 * The user-engine variant a peer's row is divided by: the Postgres store on a
 * node-postgres Pool of 16, the driver and pool size both peers run on.
 */
export const USER_ENGINE_REFERENCE = 'pg-pool';

export interface Row {
  store: string;
  operation: string;
  concurrency: number;
  /** Median over the rounds. */
  opsPerSec: number;
  /** Over every operation of every round. */
  p50Ms: number;
  p99Ms: number;
  statementsPerOp: number;
  /** A live user-engine store's ops/s ÷ the baseline's, same operation and concurrency. */
  ratioToBaseline: number | null;
  /** For a peer's row: the user-engine row it is compared with, as `store operation`. */
  comparedWith: string | null;
  /** For a peer's row: its ops/s ÷ that user-engine row's. */
  ratioToUserEngine: number | null;
}

/** A variant that could not be set up, with the error it gave. */
export interface Skipped {
  store: string;
  reason: string;
}

export interface Results {
  machine: Record<string, unknown>;
  rows: Row[];
  skipped: Skipped[];
  scale: ScaleResult | null;
  relay: RelayResult[];
  /** user-engine's Auth.js adapter beside @auth/pg-adapter; empty when the step did not run. */
  authjsAdapter: AuthjsAdapterRow[];
}

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const RESULTS_FILE = join(REPO_ROOT, 'bench', 'results', 'latest.json');

/** One row per variant, operation and concurrency, ratios filled in. */
export function summarize(variants: readonly Variant[], cells: Cells): Row[] {
  const rows: Row[] = [];
  for (const variant of variants) {
    for (const op of variant.operations) {
      for (const concurrency of CONCURRENCY) {
        rows.push(
          rowOf(variant.name, op.name, concurrency, cells.get(cellKey(variant.name, op.name, concurrency)) ?? []),
        );
      }
    }
  }
  return addRatios(variants, rows);
}

function rowOf(store: string, operation: string, concurrency: number, cells: readonly Cell[]): Row {
  const latencies = cells.flatMap((cell) => cell.latencies);
  const ops = cells.reduce((n, cell) => n + cell.ops, 0);
  return {
    store,
    operation,
    concurrency,
    opsPerSec: Math.round(median(cells.map((cell) => cell.ops / cell.seconds))),
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    statementsPerOp: round2(cells.reduce((n, cell) => n + cell.statements, 0) / Math.max(1, ops)),
    ratioToBaseline: null,
    comparedWith: null,
    ratioToUserEngine: null,
  };
}

function addRatios(variants: readonly Variant[], rows: Row[]): Row[] {
  const find = (store: string, operation: string, concurrency: number) =>
    rows.find((r) => r.store === store && r.operation === operation && r.concurrency === concurrency);
  const ratio = (row: Row, reference: Row | undefined) =>
    reference === undefined || reference.opsPerSec === 0 ? null : round2(row.opsPerSec / reference.opsPerSec);
  return rows.map((row) => {
    const variant = variants.find((v) => v.name === row.store);
    if (variant?.role === 'engine-live') {
      return { ...row, ratioToBaseline: ratio(row, find('baseline-pg', row.operation, row.concurrency)) };
    }
    if (variant?.role === 'peer') {
      const counterpart = variant.operations.find((op) => op.name === row.operation)?.counterpart;
      const reference =
        counterpart === undefined ? undefined : find(USER_ENGINE_REFERENCE, counterpart, row.concurrency);
      if (reference === undefined) return row;
      return {
        ...row,
        comparedWith: `${reference.store} ${reference.operation}`,
        ratioToUserEngine: ratio(row, reference),
      };
    }
    return row;
  });
}

export function machineInfo(options: BenchOptions, server: Record<string, string> | null): Record<string, unknown> {
  return {
    node: process.version,
    os: `${osType()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    postgres: server,
    peers: peerVersions(['@auth/pg-adapter', 'better-auth', 'kysely', 'pg']),
    mode: options.mode,
    rounds: options.rounds,
    cellMs: options.cellMs,
    seedUsers: options.seedUsers,
    date: new Date().toISOString(),
  };
}

/** The installed version of each package, or null when it is not installed. */
function peerVersions(names: readonly string[]): Record<string, string | null> {
  const versions: Record<string, string | null> = {};
  for (const name of names) {
    try {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      versions[name] = typeof manifest.version === 'string' ? manifest.version : null;
    } catch {
      versions[name] = null;
    }
  }
  return versions;
}

export function writeResults(results: Results): void {
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

export function printTable(rows: readonly Row[]): void {
  if (rows.length === 0) return;
  const header = ['store', 'operation', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'stmts/op', '÷ baseline', '÷ user-engine'];
  const lines = rows.map((r) => [
    r.store,
    r.operation,
    String(r.concurrency),
    String(r.opsPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.statementsPerOp),
    r.ratioToBaseline === null ? '' : r.ratioToBaseline.toFixed(2),
    r.ratioToUserEngine === null ? '' : r.ratioToUserEngine.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cols: string[]) =>
    cols.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(fmt(line));
}

export function printSkipped(skipped: readonly Skipped[]): void {
  for (const s of skipped) console.log(`\nnot measured: ${s.store}: ${s.reason}`);
}

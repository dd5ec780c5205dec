// How a cell is measured: callers run one operation back to back until a
// deadline; every latency is kept. Rounds alternate the order of variants
// so drift on a shared machine does not favour one.

/** The user-engine operations the benchmark measures; every row stands beside one of them. */
export const ENGINE_OPERATIONS = ['registerUser', 'updateProfile', 'getUser', 'findUserByEmail', 'listUsers'] as const;
export type EngineOperation = (typeof ENGINE_OPERATIONS)[number];
export const CONCURRENCY = [1, 16] as const;

/** The i-th call of worker `worker` (with one caller, `i` counts every call of the run). */
export type Step = (i: number, worker: number) => Promise<unknown>;

export interface MeasuredOperation {
  /** The row's name for it: the engine's method, or a peer's own (`createUser`). */
  name: string;
  /** The user-engine operation it does the work of; their cells run side by side in every round. */
  counterpart: EngineOperation;
  run: Step;
}

/**
 * - `engine`: a user-engine store in process (memory, PGlite);
 * - `engine-live`: a user-engine store on the live server, compared with the baseline;
 * - `baseline`: the hand-written node-postgres floor;
 * - `peer`: another library, compared with user-engine on the same server.
 */
export type VariantRole = 'engine' | 'engine-live' | 'baseline' | 'peer';

export interface Variant {
  name: string;
  role: VariantRole;
  operations: MeasuredOperation[];
  /** Statements sent so far, counted on the wire (0 for the in-memory store). */
  statements(): number;
  close(): Promise<void>;
}

export interface Cell {
  ops: number;
  seconds: number;
  latencies: number[];
  statements: number;
}

/** Every cell of one row, across rounds. */
export type Cells = Map<string, Cell[]>;
export const cellKey = (store: string, operation: string, concurrency: number) =>
  `${store}|${operation}|${concurrency}`;

export async function runCell(step: Step, concurrency: number, ms: number, statements: () => number): Promise<Cell> {
  const before = statements();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let i = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await step(concurrency === 1 ? next++ : i++, worker);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ops: latencies.length, seconds, latencies, statements: statements() - before };
}

/**
 * Runs every operation of every variant at every concurrency for `ms`, in
 * `order`, grouped by counterpart so that a peer's cell runs right beside the
 * engine's cell it is compared with. Adds each cell to `cells` when given.
 */
export async function runRound(variants: readonly Variant[], ms: number, cells?: Cells): Promise<void> {
  for (const counterpart of ENGINE_OPERATIONS) {
    for (const concurrency of CONCURRENCY) {
      for (const variant of variants) {
        for (const op of variant.operations) {
          if (op.counterpart !== counterpart) continue;
          const cell = await runCell(op.run, concurrency, ms, () => variant.statements());
          if (cells === undefined) continue;
          const key = cellKey(variant.name, op.name, concurrency);
          cells.set(key, [...(cells.get(key) ?? []), cell]);
        }
      }
    }
  }
}

/** One warm-up pass, then `rounds` measured rounds; odd rounds run the variants in reverse order. */
export async function measureRounds(
  variants: readonly Variant[],
  plan: { rounds: number; cellMs: number; warmupMs: number },
): Promise<Cells> {
  console.log(`warming up (${plan.warmupMs} ms per cell)…`);
  await runRound(variants, plan.warmupMs);
  const cells: Cells = new Map();
  for (let round = 0; round < plan.rounds; round++) {
    console.log(`round ${round + 1}/${plan.rounds}`);
    await runRound(round % 2 === 0 ? variants : [...variants].reverse(), plan.cellMs, cells);
  }
  return cells;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return 0;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

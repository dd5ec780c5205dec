// What a benchmark run measures and for how long, read from the command line
// and the environment. See docs/performance.md for the flags.

/** The variants a run can measure, by the name their rows carry. */
export const STORE_NAMES = [
  'memory',
  'pglite',
  'pg-pool',
  'postgres-js',
  'baseline-pg',
  'authjs-pg',
  'better-auth',
] as const;
export type StoreName = (typeof STORE_NAMES)[number];
/** The steps besides the main table that `--only` can name. */
const STEP_NAMES: readonly string[] = ['scale', 'relay', 'authjs'];

export interface BenchOptions {
  mode: 'quick' | 'full';
  /** `--only=a,b`: these stores (and `scale`, `relay`, `authjs`, if named) and nothing else; null measures every store. */
  only: ReadonlySet<string> | null;
  rounds: number;
  cellMs: number;
  warmupMs: number;
  /** Users each variant is seeded with before its warm-up. */
  seedUsers: number;
  /** The live server; without it only the in-process stores are measured. */
  databaseUrl: string | undefined;
  /** Whether the in-memory scale step runs, and how many users it grows the store to. */
  scale: boolean;
  scaleUsers: number;
  /** Whether the relay rows run (they need the live server and the brokers). */
  relay: boolean;
  /** Whether the Auth.js adapter rows run (they need the live server). */
  authjs: boolean;
}

const DEFAULT_SCALE_USERS = 1_000_000;

/**
 * `--quick` (the CI smoke run), `--only=memory,pg-pool`, `--scale` (run the
 * scale step even with `--quick` or `--only`), `--no-scale`,
 * `--scale-users=N`, `--no-relay` (skip the relay rows; `--only=relay`
 * runs only them) and `--no-authjs` (skip the Auth.js adapter rows;
 * `--only=authjs` runs only them). The scale step runs by default only in a
 * full run of every store.
 */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const quick = argv.includes('--quick');
  const only = listFlag(argv, '--only=');
  if (only !== null) {
    const unknown = [...only].filter(
      (name) => !STEP_NAMES.includes(name) && !(STORE_NAMES as readonly string[]).includes(name),
    );
    if (unknown.length > 0) {
      throw new Error(
        `--only: unknown ${unknown.join(', ')}; expected some of ${[...STORE_NAMES, ...STEP_NAMES].join(', ')}`,
      );
    }
  }
  const scaleUsers = numberFlag(argv, '--scale-users=') ?? DEFAULT_SCALE_USERS;
  const scale =
    !argv.includes('--no-scale') &&
    (argv.includes('--scale') || only?.has('scale') === true || (!quick && only === null));
  return {
    mode: quick ? 'quick' : 'full',
    only,
    rounds: 5,
    cellMs: quick ? 150 : 1000,
    warmupMs: quick ? 150 : 800,
    seedUsers: 400,
    databaseUrl: env.USER_ENGINE_TEST_DATABASE_URL || undefined,
    scale,
    scaleUsers,
    relay: !argv.includes('--no-relay') && (only === null || only.has('relay')),
    authjs: !argv.includes('--no-authjs') && (only === null || only.has('authjs')),
  };
}

/** Whether a run with these options measures `store`. */
export function wants(options: BenchOptions, store: StoreName): boolean {
  return options.only === null || options.only.has(store);
}

function listFlag(argv: readonly string[], prefix: string): ReadonlySet<string> | null {
  const arg = argv.find((a) => a.startsWith(prefix));
  return arg === undefined ? null : new Set(arg.slice(prefix.length).split(',').filter(Boolean));
}

function numberFlag(argv: readonly string[], prefix: string): number | undefined {
  const arg = argv.find((a) => a.startsWith(prefix));
  if (arg === undefined) return undefined;
  const value = Number(arg.slice(prefix.length).replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${prefix}: expected a positive whole number`);
  return value;
}

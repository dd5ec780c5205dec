import { UserEngine, UserEngineError, type UserEngineStore } from '../src/index.js';
import { checkUserInvariants, type InvariantReport, type StatementKind } from '../src/testing/index.js';

export interface SoakOptions {
  store: UserEngineStore;
  /** Another store over the same data (another process; on Postgres, another commit path): every other worker uses it. */
  peer?: UserEngineStore;
  /** Statements sent so far by kind, when the stores run on a `CountingConnection`: the report's per-path commit counts. */
  statements?: () => Record<StatementKind, number>;
  /** Concurrent callers. */
  workers: number;
  /** Stop after this long... */
  durationMs: number;
  /** ...or after this many commands, whichever comes first. */
  maxOperations: number;
  /** Runs beside the workers until they stop (e.g. a backend killer); resolves to the faults it injected. */
  faults?: (until: Promise<void>) => Promise<number>;
}

export interface SoakReport {
  operations: number;
  acknowledged: number;
  /** Expected refusals: email/handle/identity taken, invalid state, not found. */
  refused: Record<string, number>;
  /** Times a command met a concurrent writer and was retried by the engine. */
  conflictsRetried: number;
  /** Commands that still met a concurrent writer after every retry. */
  retriesExhausted: number;
  /** Commands that failed as store_unavailable (a fault): they may or may not have committed. */
  unavailable: number;
  /** Anything else: a bug. Must stay empty. */
  unexpected: string[];
  faultsInjected: number;
  /** Commits by the path that carried them (Postgres stores on a counting connection only). */
  commits: { writeBatch: number; applyCommit: number } | null;
  /** Users registered with many identities (erasing one is a large commit). */
  manyIdentityUsers: number;
  seconds: number;
  invariants: InvariantReport;
}

const EMAILS = Array.from({ length: 10 }, (_, i) => `soak${i}@example.com`);
const HANDLES = Array.from({ length: 6 }, (_, i) => `soak_${i}`);
const SUBJECTS = Array.from({ length: 6 }, (_, i) => `subject-${i}`);
/** Enough subjects that a user can hold many: erasing a user with 6 or more is larger than the write-batch limit. */
const MANY_SUBJECTS = Array.from({ length: 400 }, (_, i) => `many-${i}`);
const ROLES = ['admin', 'editor', 'viewer', 'billing', 'support', 'finance', 'auditor', 'owner'];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** One kind of command the workers pick; `run` resolves to the number of writes that were acknowledged. */
interface SoakCommand {
  weight: number;
  run: () => Promise<number>;
}

/** What the workers share: the users they aim at, and the running tally. */
interface SoakState {
  users: string[];
  tally: Tally;
  manyIdentityUsers: number;
}

type Tally = Pick<
  SoakReport,
  'operations' | 'acknowledged' | 'refused' | 'retriesExhausted' | 'unavailable' | 'unexpected'
>;

const ctx = { actor: 'soak' };

/** The weighted mix of commands one engine sends, and the registration used until there are users to aim at. */
function soakCommands(engine: UserEngine, state: SoakState): { all: SoakCommand[]; register: SoakCommand } {
  const { users } = state;
  const one = (run: () => Promise<unknown>) => () => run().then(() => 1);
  const register: SoakCommand = {
    weight: 3,
    run: one(() =>
      engine
        .registerUser(ctx, {
          email: pick(EMAILS).replace('soak', Math.random() < 0.5 ? 'soak' : 'SOAK'),
          ...(Math.random() < 0.5 ? { handle: pick(HANDLES) } : {}),
          displayName: 'Soak Tester',
          attributes: { plan: pick(['free', 'pro']) },
        })
        .then((u) => users.push(u.id)),
    ),
  };
  // Role and suspension commands look at the user first, as a caller would, so most of them are
  // valid when sent and the interesting outcome is the race, not a refusal.
  const toggleRole = async () => {
    const user = await engine.getUser(pick(users));
    if (user === null) return engine.grantRole(ctx, pick(users), pick(ROLES));
    const role = pick(ROLES);
    return user.roles.includes(role) ? engine.revokeRole(ctx, user.id, role) : engine.grantRole(ctx, user.id, role);
  };
  const toggleSuspension = async () => {
    const user = await engine.getUser(pick(users));
    if (user === null || user.status !== 'suspended')
      return engine.suspendUser(ctx, user?.id ?? pick(users), { reason: 'soak' });
    return engine.reactivateUser(ctx, user.id);
  };
  // A user with up to 8 identities: erasing it writes 10 or more records, a large commit.
  // Each command that lands counts as acknowledged even if a later one fails.
  const registerWithIdentities = async () => {
    let acknowledged = 0;
    const user = await engine.registerUser(ctx, { email: `many${Math.random()}@example.com` });
    acknowledged += 1;
    users.push(user.id);
    state.manyIdentityUsers += 1;
    try {
      for (let i = 0; i < 8; i++) {
        await engine.linkIdentity(ctx, user.id, { provider: 'github', subject: pick(MANY_SUBJECTS) });
        acknowledged += 1;
      }
    } catch (error) {
      state.tally.acknowledged += acknowledged;
      throw error;
    }
    return acknowledged;
  };
  const erase = async () => {
    const erased = await engine.eraseUser(ctx, pick(users));
    // Keep most commands aimed at users who can still take them.
    const at = users.indexOf(erased.id);
    if (at >= 0) users.splice(at, 1);
  };
  const all: SoakCommand[] = [
    register,
    { weight: 0.4, run: registerWithIdentities },
    {
      weight: 3,
      run: one(() =>
        engine.updateProfile(ctx, pick(users), { displayName: `Name ${Math.random()}`, locale: pick(['en', 'fr-CA']) }),
      ),
    },
    { weight: 2, run: one(() => engine.changeEmail(ctx, pick(users), pick(EMAILS))) },
    { weight: 2, run: one(() => engine.changeHandle(ctx, pick(users), Math.random() < 0.2 ? null : pick(HANDLES))) },
    {
      weight: 2,
      run: one(() => engine.linkIdentity(ctx, pick(users), { provider: 'github', subject: pick(SUBJECTS) })),
    },
    {
      weight: 1,
      run: one(() => engine.unlinkIdentity(ctx, pick(users), { provider: 'github', subject: pick(SUBJECTS) })),
    },
    { weight: 6, run: one(toggleRole) },
    { weight: 2, run: one(toggleSuspension) },
    { weight: 0.6, run: one(erase) },
    { weight: 2, run: () => engine.findUserByEmail(pick(EMAILS)).then(() => 0) },
  ];
  return { all, register };
}

function pickWeighted(commands: readonly SoakCommand[]): SoakCommand {
  let r = Math.random() * commands.reduce((sum, c) => sum + c.weight, 0);
  for (const command of commands) {
    r -= command.weight;
    if (r <= 0) return command;
  }
  return commands[0] as SoakCommand;
}

const REFUSALS: ReadonlySet<string> = new Set([
  'email_taken',
  'handle_taken',
  'identity_taken',
  'invalid_state',
  'not_found',
]);

/** Sorts a failed command into the tally: retries exhausted, unavailable, an expected refusal, or a bug. */
function tallyFailure(tally: Tally, error: unknown): void {
  if (UserEngineError.is(error, 'version_conflict')) tally.retriesExhausted += 1;
  else if (UserEngineError.is(error, 'store_unavailable')) tally.unavailable += 1;
  else if (UserEngineError.is(error) && REFUSALS.has(error.code)) {
    tally.refused[error.code] = (tally.refused[error.code] ?? 0) + 1;
  } else {
    tally.unexpected.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}

/** Commits per path between two statement counts, or null when the stores were not counted. */
function commitsBetween(
  before: Record<StatementKind, number> | undefined,
  after: Record<StatementKind, number> | undefined,
): SoakReport['commits'] {
  if (before === undefined || after === undefined) return null;
  return {
    writeBatch: after['write-batch'] - before['write-batch'],
    applyCommit: after['apply-commit'] - before['apply-commit'],
  };
}

/**
 * N workers issue a random mix of every command over a small set of users,
 * emails, handles and identities, so conflicts and refusals are frequent;
 * some users get many identities, so erasing them is a large commit. With a
 * peer, every other worker sends its commands through it. Then the
 * invariants are checked from the store alone.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  let conflictsRetried = 0;
  const onRetry = () => {
    conflictsRetried += 1;
  };
  const statementsBefore = options.statements?.();
  const state: SoakState = {
    users: [],
    manyIdentityUsers: 0,
    tally: { operations: 0, acknowledged: 0, refused: {}, retriesExhausted: 0, unavailable: 0, unexpected: [] },
  };
  const { tally } = state;
  const perEngine = [options.store, options.peer ?? options.store].map((store) =>
    soakCommands(new UserEngine({ store, onRetry }), state),
  );
  const started = performance.now();
  const deadline = started + options.durationMs;
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const faults = options.faults?.(stopped) ?? Promise.resolve(0);
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      const commands = perEngine[worker % 2] as (typeof perEngine)[number];
      while (performance.now() < deadline && tally.operations < options.maxOperations) {
        tally.operations += 1;
        const command = state.users.length < 3 ? commands.register : pickWeighted(commands.all);
        try {
          // Not `tally.acknowledged += await …`: that reads the total before the await and loses
          // other workers' increments.
          const acknowledged = await command.run();
          tally.acknowledged += acknowledged;
        } catch (error) {
          tallyFailure(tally, error);
        }
        // Let the other workers' continuations run: on an in-process store (PGlite) a worker whose
        // calls resolve at once would otherwise keep the queue, and one engine would starve the other.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  stop();
  const faultsInjected = await faults;
  const seconds = (performance.now() - started) / 1000;
  const invariants = await checkUserInvariants(options.store, {
    acknowledged: tally.acknowledged,
    unacknowledged: tally.unavailable,
  });
  return {
    ...tally,
    conflictsRetried,
    faultsInjected,
    commits: commitsBetween(statementsBefore, options.statements?.()),
    manyIdentityUsers: state.manyIdentityUsers,
    seconds,
    invariants,
  };
}

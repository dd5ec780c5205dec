import { UserEngine, UserEngineError, type UserEngineStore } from '../src/index.js';
import { checkInvariants, type InvariantReport } from './invariants.js';

export interface SoakOptions {
  store: UserEngineStore;
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
  seconds: number;
  invariants: InvariantReport;
}

const EMAILS = Array.from({ length: 10 }, (_, i) => `soak${i}@example.com`);
const HANDLES = Array.from({ length: 6 }, (_, i) => `soak_${i}`);
const SUBJECTS = Array.from({ length: 6 }, (_, i) => `subject-${i}`);
const ROLES = ['admin', 'editor', 'viewer', 'billing', 'support', 'finance', 'auditor', 'owner'];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/**
 * N workers issue a random mix of every command over a small set of users,
 * emails, handles and identities, so conflicts and refusals are frequent;
 * then the invariants are checked from the store alone.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  let conflictsRetried = 0;
  const engine = new UserEngine({
    store: options.store,
    onRetry: () => {
      conflictsRetried += 1;
    },
  });
  const users: string[] = [];
  const report: Omit<SoakReport, 'invariants' | 'seconds' | 'faultsInjected' | 'conflictsRetried'> = {
    operations: 0,
    acknowledged: 0,
    refused: {},
    retriesExhausted: 0,
    unavailable: 0,
    unexpected: [],
  };
  const ctx = { actor: 'soak' };
  // Every command but the read writes exactly one audit entry when it succeeds. Erasure is rarer
  // than the rest so that the population stays mostly alive.
  const register = () =>
    engine
      .registerUser(ctx, {
        email: pick(EMAILS).replace('soak', Math.random() < 0.5 ? 'soak' : 'SOAK'),
        ...(Math.random() < 0.5 ? { handle: pick(HANDLES) } : {}),
        displayName: 'Soak Tester',
        attributes: { plan: pick(['free', 'pro']) },
      })
      .then((u) => users.push(u.id));
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
  const erase = async () => {
    const erased = await engine.eraseUser(ctx, pick(users));
    // Keep most commands aimed at users who can still take them.
    const at = users.indexOf(erased.id);
    if (at >= 0) users.splice(at, 1);
    return erased;
  };
  const commands: { weight: number; writes: boolean; run: () => Promise<unknown> }[] = [
    { weight: 3, writes: true, run: register },
    {
      weight: 3,
      writes: true,
      run: () =>
        engine.updateProfile(ctx, pick(users), { displayName: `Name ${Math.random()}`, locale: pick(['en', 'fr-CA']) }),
    },
    { weight: 2, writes: true, run: () => engine.changeEmail(ctx, pick(users), pick(EMAILS)) },
    {
      weight: 2,
      writes: true,
      run: () => engine.changeHandle(ctx, pick(users), Math.random() < 0.2 ? null : pick(HANDLES)),
    },
    {
      weight: 2,
      writes: true,
      run: () => engine.linkIdentity(ctx, pick(users), { provider: 'github', subject: pick(SUBJECTS) }),
    },
    {
      weight: 1,
      writes: true,
      run: () => engine.unlinkIdentity(ctx, pick(users), { provider: 'github', subject: pick(SUBJECTS) }),
    },
    { weight: 6, writes: true, run: toggleRole },
    { weight: 2, writes: true, run: toggleSuspension },
    { weight: 0.3, writes: true, run: erase },
    { weight: 2, writes: false, run: () => engine.findUserByEmail(pick(EMAILS)) },
  ];
  const totalWeight = commands.reduce((sum, c) => sum + c.weight, 0);
  const pickCommand = () => {
    let r = Math.random() * totalWeight;
    for (const command of commands) {
      r -= command.weight;
      if (r <= 0) return command;
    }
    return commands[0] as (typeof commands)[number];
  };

  const started = performance.now();
  const deadline = started + options.durationMs;
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const faults = options.faults?.(stopped) ?? Promise.resolve(0);
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (performance.now() < deadline && report.operations < options.maxOperations) {
        report.operations += 1;
        const command = users.length < 3 ? { writes: true, run: register } : pickCommand();
        try {
          await command.run();
          if (command.writes) report.acknowledged += 1;
        } catch (error) {
          if (UserEngineError.is(error, 'version_conflict')) report.retriesExhausted += 1;
          else if (UserEngineError.is(error, 'store_unavailable')) report.unavailable += 1;
          else if (
            UserEngineError.is(error) &&
            ['email_taken', 'handle_taken', 'identity_taken', 'invalid_state', 'not_found'].includes(error.code)
          ) {
            report.refused[error.code] = (report.refused[error.code] ?? 0) + 1;
          } else {
            report.unexpected.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
          }
        }
      }
    }),
  );
  stop();
  const faultsInjected = await faults;
  const seconds = (performance.now() - started) / 1000;
  const invariants = await checkInvariants(options.store, {
    acknowledged: report.acknowledged,
    unacknowledged: report.unavailable,
  });
  return { ...report, conflictsRetried, faultsInjected, seconds, invariants };
}

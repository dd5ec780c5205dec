// Fault injection through FakePostgresConnection: a scripted lifecycle where,
// for every command and every statement k it sends, statement k fails —
// before it runs, or after it ran with only its answer lost. After each fault
// the store equals the state before the command or the state after it, never
// anything between, and the caller saw a typed error.
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, UserEngine, UserEngineError, type UserEngineStore } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { FakePostgresConnection } from '../src/testing/index.js';

type Step = [string, (engine: UserEngine, ids: string[]) => Promise<unknown>];

const ctx = { actor: 'script' };
const SCRIPT: Step[] = [
  [
    'register ada',
    (e, ids) => e.registerUser(ctx, { email: 'ada@example.com', handle: 'ada' }).then((u) => ids.push(u.id)),
  ],
  ['register bob', (e, ids) => e.registerUser(ctx, { email: 'bob@example.com' }).then((u) => ids.push(u.id))],
  ['update profile', (e, [ada]) => e.updateProfile(ctx, ada as string, { displayName: 'Ada', attributes: { a: 1 } })],
  ['change email', (e, [ada]) => e.changeEmail(ctx, ada as string, 'countess@example.com')],
  ['change handle', (e, [ada]) => e.changeHandle(ctx, ada as string, 'countess')],
  ['link identity', (e, [ada]) => e.linkIdentity(ctx, ada as string, { provider: 'github', subject: '42' })],
  ['grant role', (e, [ada]) => e.grantRole(ctx, ada as string, 'admin')],
  ['suspend', (e, [, bob]) => e.suspendUser(ctx, bob as string, { reason: 'spam' })],
  ['reactivate', (e, [, bob]) => e.reactivateUser(ctx, bob as string)],
  ['unlink identity', (e, [ada]) => e.unlinkIdentity(ctx, ada as string, { provider: 'github', subject: '42' })],
  ['revoke role', (e, [ada]) => e.revokeRole(ctx, ada as string, 'admin')],
  ['erase', (e, [ada]) => e.eraseUser(ctx, ada as string)],
];

function deterministicEngine(store: UserEngineStore): UserEngine {
  let tick = 0;
  let id = 0;
  return new UserEngine({
    store,
    clock: () => new Date(Date.UTC(2026, 0, 1) + 1000 * tick++),
    newId: () => `01900000-0000-7000-8000-${String(++id).padStart(12, '0')}`,
  });
}

/** The store's contents without what differs between runs by design: random audit/outbox ids and store timestamps. */
async function contents(store: UserEngineStore): Promise<string> {
  const counts = await store.recordCounts();
  const records = [];
  for (const kind of Object.keys(counts.records)) {
    for (const r of await store.listRecords(kind, { limit: 1000 })) records.push([r.key, r.version, r.data]);
  }
  const audit = (await store.readAudit({ limit: 1000 })).map((a) => [a.actor, a.action, a.recordKey, a.detail]);
  const outbox = (await store.pendingOutbox({ limit: 1000 })).map((o) => [o.topic, o.key, o.payload]);
  return JSON.stringify({ counts, records, audit, outbox });
}

async function setUp() {
  const connection = new FakePostgresConnection();
  const store = new PostgresUserEngineStore({ connection });
  await store.migrate();
  await store.recordCounts();
  return { connection, store, engine: deterministicEngine(store), ids: [] as string[] };
}

describe('fault injection: every statement of every command of a scripted lifecycle', () => {
  it('fails each statement k, before it runs and after it ran; the store is always before or after', async () => {
    // The reference run: the state after each step, and how many statements each step sends.
    const reference = await setUp();
    const after: string[] = [];
    const statementCounts: number[] = [];
    const initial = await contents(reference.store);
    for (const [, step] of SCRIPT) {
      const sent = reference.connection.statements.length;
      await step(reference.engine, reference.ids);
      statementCounts.push(reference.connection.statements.length - sent);
      after.push(await contents(reference.store));
    }

    let faults = 0;
    for (let i = 0; i < SCRIPT.length; i++) {
      const [name, step] = SCRIPT[i] as Step;
      for (let k = 1; k <= (statementCounts[i] ?? 0); k++) {
        for (const afterApply of [false, true]) {
          const run = await setUp();
          for (const [, earlier] of SCRIPT.slice(0, i)) await earlier(run.engine, run.ids);
          const before = i === 0 ? initial : (after[i - 1] as string);
          expect(await contents(run.store)).toBe(before);
          run.connection.failStatement(k, undefined, { afterApply });
          const outcome = await step(run.engine, run.ids).then(
            () => null,
            (error: unknown) => error,
          );
          run.connection.clearFailures();
          faults += 1;
          const label = `${name}, statement ${k} of ${statementCounts[i]}, ${afterApply ? 'answer lost' : 'failed before running'}`;
          expect(UserEngineError.is(outcome, 'store_unavailable'), `${label}: ${String(outcome)}`).toBe(true);
          const state = await contents(run.store);
          expect([before, after[i]], label).toContain(state);
          // Only a commit whose answer was lost can have taken effect.
          const isCommit = k === statementCounts[i];
          expect(state, label).toBe(afterApply && isCommit ? after[i] : before);
        }
      }
    }
    expect(faults).toBe(2 * statementCounts.reduce((a, b) => a + b, 0));
  });

  it('a connection dropped just before a commit fails the command as store_unavailable and applies nothing', async () => {
    const run = await setUp();
    const ada = await run.engine.registerUser(ctx, { email: 'ada@example.com' });
    const before = await contents(run.store);
    const commit = run.store.transaction(async (tx) => {
      const user = await tx.get('user', ada.id);
      run.connection.dropConnection();
      tx.put({ kind: 'user', id: ada.id, data: { ...user?.data }, expectedVersion: user?.version ?? 0 });
    });
    await expect(commit).rejects.toMatchObject({ code: 'store_unavailable' });
    run.connection.reconnect();
    expect(await contents(run.store)).toBe(before);
    await run.engine.grantRole(ctx, ada.id, 'after-reconnect');
  });
});

describe('migrations under faults', () => {
  it('every statement of migrate() failing in turn leaves whole versions only, and the next migrate() completes', async () => {
    // Statement 1 reads the applied versions; then each version's statements (a re-key takes two: a read, then the
    // re-key). Fail each in turn until a migrate() has no statement left to fail.
    let reached = 0;
    for (let k = 1; ; k++) {
      const connection = new FakePostgresConnection();
      const store = new PostgresUserEngineStore({ connection });
      connection.failStatement(k);
      const failed = await store.migrate().then(
        () => false,
        (error: unknown) => {
          expect(error).toMatchObject({ code: 'store_unavailable' });
          return true;
        },
      );
      if (!failed) break;
      const partial = await store.readiness();
      // Only the last failure point (the closing readiness read) comes after every version is in.
      expect(partial.ready).toBe(partial.currentVersion === LATEST_SCHEMA_VERSION);
      // Whole versions only: each failure point leaves as many or one more version than the one before.
      expect(partial.currentVersion - reached).toBeGreaterThanOrEqual(0);
      expect(partial.currentVersion - reached).toBeLessThanOrEqual(1);
      reached = partial.currentVersion;
      const report = await store.migrate();
      expect(report.currentVersion).toBe(LATEST_SCHEMA_VERSION);
      expect((await store.readiness()).ready).toBe(true);
      expect(k).toBeLessThan(50);
    }
    expect(reached, 'the failure points walked through every version').toBe(LATEST_SCHEMA_VERSION);
  });
});

import assert from 'node:assert/strict';
import { UserEngine } from '../engine/engine.js';
import { UserEngineError } from '../store/errors.js';
import type { StoreTransaction, UserEngineStore } from '../store/store.js';
import {
  registerSuite,
  type StoreFactory,
  type StoreHandle,
  type SuiteCase,
  type SuiteOptions,
  type TestRunner,
} from './harness.js';
import { checkUserInvariants } from './invariants.js';

/**
 * What a race case gets: a migrated store and a peer over the same data
 * (another process; on Postgres, usually forced onto the other commit path),
 * an engine on each, and the factory's handle for the abilities it offers.
 */
export interface RaceScenarioContext {
  store: UserEngineStore;
  peer: UserEngineStore;
  engine: UserEngine;
  peerEngine: UserEngine;
  handle: StoreHandle;
}

type RaceCase = SuiteCase<RaceScenarioContext>;

const ctx = { actor: 'race' };

/** Outcomes a caller may legitimately see when commands race; anything else fails the case. */
const EXPECTED_REFUSALS = new Set([
  'invalid_state',
  'email_taken',
  'handle_taken',
  'identity_taken',
  'version_conflict',
]);

function expectRefusal(outcome: PromiseSettledResult<unknown>, label: string): void {
  if (outcome.status === 'fulfilled') return;
  const error = outcome.reason;
  assert.ok(
    UserEngineError.is(error) && EXPECTED_REFUSALS.has(error.code),
    `${label}: unexpected ${UserEngineError.is(error) ? error.code : String(error)}`,
  );
}

async function assertInvariants(store: UserEngineStore, erased: Iterable<string>, label: string): Promise<void> {
  const report = await checkUserInvariants(store, { erased });
  assert.deepEqual(report.failures, [], `${label}: ${report.failures.length} invariant failures`);
}

/** A point every party must reach before any goes on. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a store transaction until it commits, retrying version conflicts with a little jitter (bounded). */
async function untilCommitted(store: UserEngineStore, work: (tx: StoreTransaction) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction(work);
    } catch (error) {
      if (!UserEngineError.is(error, 'version_conflict') || attempt >= 2000) throw error;
      await pause(Math.random() * 3);
    }
  }
}

/** A user with an email, a handle and `identities` linked identities: erasing it is a commit of 3 + `identities` writes. */
async function userWithIdentities(engine: UserEngine, tag: string, identities: number): Promise<string> {
  const user = await engine.registerUser(ctx, { email: `${tag}@race.example`, handle: tag.replaceAll('-', '_') });
  for (let i = 0; i < identities; i++) {
    await engine.linkIdentity(ctx, user.id, { provider: 'race', subject: `${tag}-${i}` });
  }
  return user.id;
}

/** The race scenarios, for runners other than `runRaceScenarios`. */
export const raceScenarios: readonly RaceCase[] = [
  {
    name: 'large commits racing small commits on the same records lose no update',
    async run({ store, peer }) {
      // 12 records: a commit that writes all of them is larger than any write-batch limit.
      const ids = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
      await store.transaction(async (tx) => {
        for (const id of ids) tx.put({ kind: 'counter', id, data: { n: 0 }, expectedVersion: 0 });
      });
      const increments = new Map(ids.map((id) => [id, 0]));
      let commits = 0;
      const increment = async (tx: StoreTransaction, id: string) => {
        const record = await tx.get('counter', id);
        assert.ok(record !== null);
        tx.put({ kind: 'counter', id, data: { n: (record.data.n as number) + 1 }, expectedVersion: record.version });
      };
      const large = async (on: UserEngineStore) => {
        for (let round = 0; round < 3; round++) {
          await untilCommitted(on, async (tx) => {
            await Promise.all(ids.map((id) => increment(tx, id)));
            tx.appendAudit({ actor: 'race', action: 'counter.all', recordKey: null, detail: {} });
          });
          for (const id of ids) increments.set(id, (increments.get(id) ?? 0) + 1);
          commits += 1;
        }
      };
      const small = async (on: UserEngineStore, seed: number) => {
        for (let round = 0; round < 8; round++) {
          const id = ids[(seed * 5 + round * 7) % ids.length] as string;
          await untilCommitted(on, async (tx) => {
            await increment(tx, id);
            tx.appendAudit({ actor: 'race', action: 'counter.one', recordKey: `counter:${id}`, detail: {} });
          });
          increments.set(id, (increments.get(id) ?? 0) + 1);
          commits += 1;
        }
      };
      await Promise.all([
        large(store),
        large(peer),
        small(store, 1),
        small(peer, 2),
        small(store, 3),
        small(peer, 4),
        small(store, 5),
        small(peer, 6),
      ]);
      for (const id of ids) {
        const record = await store.getRecord('counter', id);
        const expected = increments.get(id) ?? 0;
        assert.equal(
          record?.data.n,
          expected,
          `counter ${id}: value ${record?.data.n}, increments committed ${expected}`,
        );
        assert.equal(
          record?.version,
          expected + 1,
          `counter ${id}: version ${record?.version} after ${expected} updates`,
        );
      }
      assert.equal((await store.recordCounts()).audit, commits, 'one audit entry per committed transaction');
    },
  },
  {
    name: 'eraseUser of users with 10 identities racing linkIdentity, grantRole, changeEmail, updateProfile and a re-registration',
    async run({ engine, peerEngine, store }) {
      const erased: string[] = [];
      const firstEmail = new Map<string, string>();
      for (let round = 0; round < 3; round++) {
        const users = await Promise.all(
          Array.from({ length: 4 }, (_, i) => userWithIdentities(engine, `erase-${round}-${i}`, 10)),
        );
        users.forEach((id, i) => {
          firstEmail.set(id, `erase-${round}-${i}@race.example`);
        });
        const erasures = users.map((id) => pause(Math.random() * 4).then(() => engine.eraseUser(ctx, id)));
        const others = users.flatMap((id, i) => {
          const tag = `erase-${round}-${i}`;
          return [
            peerEngine.linkIdentity(ctx, id, { provider: 'race', subject: `${tag}-late` }),
            peerEngine.grantRole(ctx, id, 'editor'),
            peerEngine.changeEmail(ctx, id, `${tag}-moved@race.example`),
            peerEngine.updateProfile(ctx, id, { displayName: `Late ${tag}` }),
            pause(Math.random() * 4).then(() => peerEngine.registerUser(ctx, { email: `${tag}@race.example` })),
            engine.linkIdentity(ctx, id, { provider: 'race', subject: `${tag}-late-2` }),
          ];
        });
        const [erasedNow, othersNow] = await Promise.all([Promise.allSettled(erasures), Promise.allSettled(others)]);
        for (const [n, outcome] of [...erasedNow, ...othersNow].entries()) {
          expectRefusal(outcome, `round ${round} command ${n}`);
        }
        erasedNow.forEach((outcome, i) => {
          if (outcome.status === 'fulfilled') erased.push(users[i] as string);
        });
        await assertInvariants(store, erased, `after round ${round}`);
      }
      assert.ok(erased.length > 0, 'at least one erasure went through');
      // Each erased user's first address is free again, for exactly one new owner.
      for (const id of erased) {
        const email = firstEmail.get(id) as string;
        const taken = await engine.findUserByEmail(email);
        if (taken === null) await engine.registerUser(ctx, { email });
        await assert.rejects(engine.registerUser(ctx, { email: email.toUpperCase() }), (e) =>
          UserEngineError.is(e, 'email_taken'),
        );
      }
      await assertInvariants(store, erased, 'at the end');
    },
  },
  {
    name: "a command held open inside a caller's transaction while a large erase on another path waits for it",
    requires: 'callerTransaction',
    async run({ engine, peerEngine, store, handle }) {
      const open = handle.callerTransaction;
      assert.ok(open);
      for (const ending of ['commit', 'rollback'] as const) {
        const id = await userWithIdentities(engine, `held-${ending}`, 10);
        const held = await open();
        try {
          const heldEngine = new UserEngine({ store: held.store });
          await heldEngine.linkIdentity(ctx, id, { provider: 'race', subject: `held-${ending}-late` });
          // The erase on the other path must wait for the held commit, then see it.
          const erasing = peerEngine.eraseUser(ctx, id);
          await pause(150);
          await held[ending]();
          const erasedUser = await erasing;
          assert.equal(erasedUser.status, 'erased');
          assert.deepEqual(erasedUser.identities, []);
        } finally {
          await held.rollback().catch(() => {});
        }
        assert.equal(await engine.findUserByIdentity('race', `held-${ending}-late`), null);
        await assertInvariants(store, [id], `held ${ending}`);
      }
    },
  },
  {
    name: "a large erase held open inside a caller's transaction while commands on another path wait for it",
    requires: 'callerTransaction',
    async run({ engine, peerEngine, store, handle }) {
      const open = handle.callerTransaction;
      assert.ok(open);
      const id = await userWithIdentities(engine, 'held-erase', 10);
      const held = await open();
      let waiting: Promise<PromiseSettledResult<unknown>[]>;
      try {
        await new UserEngine({ store: held.store }).eraseUser(ctx, id);
        waiting = Promise.allSettled([
          peerEngine.linkIdentity(ctx, id, { provider: 'race', subject: 'held-erase-late' }),
          peerEngine.grantRole(ctx, id, 'editor'),
          peerEngine.changeEmail(ctx, id, 'held-erase-moved@race.example'),
        ]);
        await pause(150);
        await held.commit();
      } finally {
        await held.rollback().catch(() => {});
      }
      for (const outcome of await waiting) {
        assert.equal(outcome.status, 'rejected', 'a command on an erased user must not succeed');
        assert.ok(UserEngineError.is(outcome.reason, 'invalid_state'), String(outcome.reason));
      }
      await assertInvariants(store, [id], 'after the held erase');
    },
  },
  {
    name: 'read-only checks of absent keys racing creates of those keys: no write skew, no double create',
    async run({ store, peer }) {
      for (let trial = 0; trial < 12; trial++) {
        const [a, b] = [`a${trial}`, `b${trial}`];
        const arrive = barrier(2);
        // T1 and T2 each read both keys and, if both are absent, create one; committing both would be
        // write skew. (T3 may create `a` before T1 reads it; T1 then gives up without writing.)
        const checked = (on: UserEngineStore, create: string) =>
          on.transaction(async (tx) => {
            const seen = [await tx.get('slot', a), await tx.get('slot', b)];
            await arrive();
            if (seen.some((record) => record !== null)) return 'gave up';
            tx.put({ kind: 'slot', id: create, data: { by: `checked-${create}` }, expectedVersion: 0 });
            return 'created';
          });
        // T3 creates `a` blindly, as a small write-only commit, at the same moment.
        const blind = pause(Math.random() * 2).then(() =>
          peer.transaction(async (tx) => {
            tx.put({ kind: 'slot', id: a, data: { by: 'blind' }, expectedVersion: 0 });
            return 'created';
          }),
        );
        const outcomes = await Promise.allSettled([checked(store, a), checked(peer, b), blind]);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            assert.ok(UserEngineError.is(outcome.reason, 'version_conflict'), String(outcome.reason));
          }
        }
        const [t1, t2, t3] = outcomes.map((o) => o.status === 'fulfilled' && o.value === 'created');
        assert.ok(!(t1 && t2), `trial ${trial}: write skew committed`);
        assert.ok(!(t1 && t3), `trial ${trial}: two creates of one key`);
        const slotA = await store.getRecord('slot', a);
        const slotB = await store.getRecord('slot', b);
        if (t1) assert.equal(slotA?.data.by, `checked-${a}`);
        if (t3) assert.equal(slotA?.data.by, 'blind');
        if (!t1 && !t3) assert.equal(slotA, null);
        assert.equal(slotB !== null, t2, `trial ${trial}: b exists exactly when T2 created it`);
      }
    },
  },
];

/**
 * Registers the race suite: each case on a fresh, migrated store from
 * `factory` and its peer (`openPeer`, or the store itself), with the
 * engine's invariants checked from the stored data after every race.
 *
 * @example
 * runRaceScenarios({ describe, it, skip: it.skip }, 'memory', factory);
 */
export function runRaceScenarios(
  runner: TestRunner,
  storeName: string,
  factory: StoreFactory,
  options: SuiteOptions = {},
): void {
  registerSuite(
    runner,
    `race scenarios [${storeName}]`,
    raceScenarios,
    async () => {
      const handle = await factory();
      await handle.store.migrate();
      const peer = handle.openPeer?.() ?? handle.store;
      return {
        context: {
          store: handle.store,
          peer,
          engine: new UserEngine({ store: handle.store }),
          peerEngine: new UserEngine({ store: peer }),
          handle,
        },
        teardown: async () => handle.teardown?.(),
      };
    },
    options,
  );
}

import assert from 'node:assert/strict';
import type { ClaimedMessage, OutboxDelivery } from '../../store/delivery.js';
import type { UserEngineStore } from '../../store/store.js';
import { rejectsWith } from '../assertions.js';
import type { Case } from './support.js';

/** The store's delivery, which a case that requires 'delivery' may count on. */
function deliveryOf(store: UserEngineStore): OutboxDelivery {
  assert.ok(store.delivery, 'the factory declared delivery but the store has no delivery');
  return store.delivery;
}

/** Commits one message per entry of `keys`, in order, each in its own transaction. */
async function enqueue(store: UserEngineStore, keys: readonly string[]): Promise<void> {
  for (const [i, key] of keys.entries()) {
    await store.transaction(async (tx) => {
      tx.enqueueOutbox({ topic: 'note.sent', key, payload: { n: i } });
    });
  }
}

const lease = { relay: 'relay-a', leaseMs: 60_000 };
const seqsOf = (messages: readonly ClaimedMessage[]) => messages.map((m) => m.seq);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Conformance: outbox delivery — claims with leases, acknowledgements, retries, dead letters, replay, pruning. */
export const deliveryCases: readonly Case[] = [
  {
    name: 'a committed message is pending; a claim hands it out once with a token; an acknowledgement settles it',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1']);
      assert.deepEqual(await delivery.stats(), {
        pending: 1,
        claimed: 0,
        delivered: 0,
        dead: 0,
        oldestUndeliveredAt: (await store.pendingOutbox())[0]?.createdAt ?? null,
      });
      const [message] = await delivery.claim(lease);
      assert.ok(message);
      assert.equal(message.attempt, 1);
      assert.equal(message.topic, 'note.sent');
      assert.deepEqual(message.payload, { n: 0 });
      assert.deepEqual(await delivery.claim(lease), [], 'a held claim is not handed out again');
      assert.equal((await store.recordCounts()).outboxPending, 1, 'claimed is not yet delivered');
      assert.equal(await delivery.acknowledge([message]), 1);
      assert.equal(await delivery.acknowledge([message]), 0, 'acknowledging twice marks nothing');
      assert.equal((await store.recordCounts()).outboxPending, 0);
      assert.deepEqual(await store.pendingOutbox(), []);
      assert.deepEqual(await delivery.stats(), {
        pending: 0,
        claimed: 0,
        delivered: 1,
        dead: 0,
        oldestUndeliveredAt: null,
      });
      const [delivered] = await delivery.inspect({ state: 'delivered' });
      assert.equal(delivered?.seq, message.seq);
      assert.match(delivered?.settledAt ?? '', /^\d{4}-\d\d-\d\dT/);
    },
  },
  {
    name: 'a claim takes runs: a key whose oldest message is due comes with its later messages, in seq order',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k1', 'k2', 'k1', 'k3']);
      const first = await delivery.claim({ ...lease, limit: 4 });
      assert.deepEqual(
        first.map((m) => [m.key, m.payload.n]),
        [
          ['k1', 0],
          ['k1', 1],
          ['k2', 2],
          ['k1', 3],
        ],
        'the limit cuts by seq, so a key keeps a prefix of its run',
      );
      assert.deepEqual(
        (await delivery.claim({ ...lease, limit: 10 })).map((m) => m.key),
        ['k3'],
        'keys held by a claim give nothing to the next one',
      );
      await enqueue(store, ['k1']);
      assert.deepEqual(
        await delivery.claim({ ...lease, limit: 10 }),
        [],
        'a message committed later waits for its key',
      );
      await delivery.acknowledge(first);
      assert.deepEqual(
        (await delivery.claim({ ...lease, limit: 10 })).map((m) => m.payload.n),
        [0],
        'once the run is settled, the key is free again',
      );
    },
  },
  {
    name: 'a claim whose lease ran out is claimable again; the old token no longer acknowledges',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1']);
      const [first] = await delivery.claim({ relay: 'dies', leaseMs: 1000 });
      assert.ok(first);
      await pause(1200);
      const [again] = await delivery.claim({ relay: 'takes-over', leaseMs: 60_000 });
      assert.equal(again?.seq, first.seq);
      assert.equal(again?.attempt, 2);
      assert.equal(await delivery.acknowledge([first]), 0, 'the expired claim is not held');
      assert.equal(await delivery.fail(first, { error: 'late', retryInMs: 0, maxAttempts: 5 }), 'not_held');
      assert.equal(await delivery.acknowledge([again as ClaimedMessage]), 1);
    },
  },
  {
    name: 'a failure is retried only after its backoff; its key waits for it, with the rest of its run released',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k1', 'k1', 'k2']);
      const run = await delivery.claim({ ...lease, limit: 3 });
      assert.deepEqual(
        run.map((m) => m.payload.n),
        [0, 1, 2],
      );
      const [first, second, third] = run as [ClaimedMessage, ClaimedMessage, ClaimedMessage];
      assert.equal(await delivery.acknowledge([first]), 1);
      assert.equal(
        await delivery.fail(second, { error: 'broker said no', retryInMs: 60_000, maxAttempts: 5 }),
        'retry',
      );
      assert.equal(await delivery.release([third]), 1);
      const [pending, released] = await delivery.inspect({ state: 'pending' });
      assert.equal(pending?.seq, second.seq);
      assert.equal(pending?.lastError, 'broker said no');
      assert.equal(pending?.attempts, 1);
      assert.equal(released?.seq, third.seq);
      assert.equal(released?.attempts, 0, 'a released message has not been tried');
      assert.deepEqual(
        (await delivery.claim({ ...lease, limit: 10 })).map((m) => m.key),
        ['k2'],
        'k1 waits for its failed message, which waits for its backoff; the message after it waits too',
      );
    },
  },
  {
    name: 'an older message made pending behind a held run (a replay) waits until that run is settled',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k1', 'k1', 'k2']);
      const run = await delivery.claim({ relay: 'a', limit: 3, leaseMs: 60_000 });
      assert.deepEqual(
        run.map((m) => m.payload.n),
        [0, 1, 2],
      );
      assert.equal(await delivery.acknowledge(run.slice(0, 1)), 1);
      assert.equal(await delivery.replay([run[0]?.seq ?? 0]), 1);
      assert.deepEqual(
        (await delivery.claim({ relay: 'b', limit: 10, leaseMs: 60_000 })).map((m) => m.key),
        ['k2'],
        'k1 is relay a’s while it holds messages of it',
      );
      assert.equal(await delivery.acknowledge(run.slice(1)), 2);
      assert.deepEqual(
        (await delivery.claim({ relay: 'b', limit: 10, leaseMs: 60_000 })).map((m) => m.payload.n),
        [0],
      );
    },
  },
  {
    name: 'a run taken over after its lease ran out starts again at its first undelivered message, without gaps',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k1', 'k1']);
      const run = await delivery.claim({ relay: 'dies', leaseMs: 1000 });
      assert.equal(run.length, 3);
      // The first relay got one message out before it died.
      assert.equal(await delivery.acknowledge(run.slice(0, 1)), 1);
      await pause(1200);
      const again = await delivery.claim({ relay: 'takes-over', leaseMs: 60_000 });
      assert.deepEqual(
        again.map((m) => [m.payload.n, m.attempt]),
        [
          [1, 2],
          [2, 2],
        ],
      );
      assert.equal(await delivery.acknowledge(run), 0, 'the dead relay’s tokens no longer count');
    },
  },
  {
    name: 'dead letters: the attempt limit kills a message, later messages of its key go on, replay brings it back',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k1']);
      let [message, later] = await delivery.claim(lease);
      assert.ok(message);
      assert.equal(await delivery.fail(message, { error: 'first', retryInMs: 0, maxAttempts: 2 }), 'retry');
      await delivery.release([later as ClaimedMessage]);
      [message, later] = await delivery.claim(lease);
      assert.equal(message?.attempt, 2);
      assert.equal(
        await delivery.fail(message as ClaimedMessage, { error: 'second', retryInMs: 0, maxAttempts: 2 }),
        'dead',
      );
      const [dead] = await delivery.inspect({ state: 'dead' });
      assert.equal(dead?.seq, message?.seq);
      assert.equal(dead?.lastError, 'second');
      assert.equal(dead?.attempts, 2);
      assert.equal((await delivery.stats()).dead, 1);
      await delivery.release([later as ClaimedMessage]);
      const [next] = await delivery.claim(lease);
      assert.deepEqual(next?.payload, { n: 1 }, 'a dead message does not block its key');
      await delivery.acknowledge([next as ClaimedMessage]);
      assert.equal(await delivery.replay([dead?.seq ?? 0]), 1);
      const [replayed] = await delivery.claim(lease);
      assert.equal(replayed?.seq, dead?.seq);
      assert.equal(replayed?.attempt, 1, 'a replay starts counting again');
      await delivery.acknowledge([replayed as ClaimedMessage]);
      assert.equal(await delivery.replay([replayed?.seq ?? 0]), 1, 'a delivered message can be replayed too');
      assert.equal((await delivery.stats()).pending, 1);
    },
  },
  {
    name: 'release gives claims back without counting the attempt',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k2']);
      const claimed = await delivery.claim(lease);
      assert.equal(await delivery.release(claimed), 2);
      const again = await delivery.claim(lease);
      assert.deepEqual(seqsOf(again), seqsOf(claimed));
      assert.deepEqual(
        again.map((m) => m.attempt),
        [1, 1],
      );
    },
  },
  {
    name: 'prune deletes delivered messages settled before the cut-off, and nothing else',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await enqueue(store, ['k1', 'k2', 'k3']);
      const claimed = await delivery.claim(lease);
      await delivery.acknowledge(claimed.slice(0, 2));
      assert.equal(await delivery.prune({ deliveredBefore: '2000-01-01T00:00:00.000Z' }), 0);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal(await delivery.prune({ deliveredBefore: future }), 2);
      assert.deepEqual(await delivery.inspect({ state: 'delivered' }), []);
      const stats = await delivery.stats();
      assert.equal(stats.delivered, 0);
      assert.equal(stats.claimed, 1);
      assert.equal((await store.recordCounts()).outboxPending, 1);
    },
  },
  {
    name: 'concurrent claims never hand out one message twice, nor one key to two relays, nor a run with a gap',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      const keys = Array.from({ length: 40 }, (_, i) => `k${i % 10}`);
      await enqueue(store, keys);
      const perRelay = await Promise.all(
        Array.from({ length: 6 }, (_, r) => delivery.claim({ relay: `r${r}`, limit: 7, leaseMs: 60_000 })),
      );
      const claims = perRelay.flat();
      assert.equal(new Set(seqsOf(claims)).size, claims.length, 'a message was claimed twice');
      const owner = new Map<string, number>();
      perRelay.forEach((claimed, r) => {
        for (const m of claimed) {
          assert.equal(owner.get(m.key) ?? r, r, `key ${m.key} went to two relays at once`);
          owner.set(m.key, r);
        }
      });
      // Each key's claimed messages are its oldest ones, in order: no gap a later publish could jump.
      for (const key of new Set(claims.map((m) => m.key))) {
        const ns = claims.filter((m) => m.key === key).map((m) => Number(m.payload.n));
        const expected = keys.flatMap((k, n) => (k === key ? [n] : [])).slice(0, ns.length);
        assert.deepEqual(ns, expected, `key ${key}`);
      }
    },
  },
  {
    name: 'a message is never claimable before its transaction commits, nor if it rolls back',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await store.transaction(async (tx) => {
        tx.enqueueOutbox({ topic: 'note.sent', key: 'k1', payload: {} });
        assert.deepEqual(await delivery.claim(lease), [], 'claimed before commit');
      });
      const abandoned = await store
        .transaction(async (tx) => {
          tx.enqueueOutbox({ topic: 'note.sent', key: 'k2', payload: {} });
          throw new Error('abandon');
        })
        .catch((error: unknown) => error);
      assert.equal((abandoned as Error).message, 'abandon');
      const claimed = await delivery.claim(lease);
      assert.deepEqual(
        claimed.map((m) => m.key),
        ['k1'],
      );
    },
  },
  {
    name: 'bad delivery arguments are a ValidationError',
    requires: 'delivery',
    async run({ store }) {
      await store.migrate();
      const delivery = deliveryOf(store);
      await rejectsWith(delivery.claim({ relay: '', leaseMs: 60_000 }), 'invalid_input');
      await rejectsWith(delivery.claim({ relay: 'r', leaseMs: 10 }), 'invalid_input');
      await rejectsWith(delivery.claim({ relay: 'r', leaseMs: 60_000, limit: 0 }), 'invalid_input');
      await rejectsWith(delivery.acknowledge([{ seq: 0, claim: 'x' }]), 'invalid_input');
      await rejectsWith(delivery.inspect({ state: 'lost' as never }), 'invalid_input');
      await rejectsWith(delivery.prune({ deliveredBefore: 'yesterday' }), 'invalid_input');
      // Forms a looser check passed and one store could not hold: each store must refuse them alike.
      for (const claim of ['-'.repeat(36), '0'.repeat(36), '00000000-0000-4000-8000-00000000000g']) {
        await rejectsWith(delivery.acknowledge([{ seq: 1, claim }]), 'invalid_input');
        await rejectsWith(delivery.release([{ seq: 1, claim }]), 'invalid_input');
      }
      for (const deliveredBefore of [
        '1',
        '+010000-01-01T00:00:00.000Z',
        '9999-12-31T23:00:00-05:00',
        '2026-11-01T00:00:00',
        // not on the calendar: Date would roll these over and prune another day's messages
        '2026-02-30',
        '2026-11-01T24:00:00Z',
      ]) {
        await rejectsWith(delivery.prune({ deliveredBefore }), 'invalid_input');
      }
      assert.equal(await delivery.prune({ deliveredBefore: '9999-12-31T23:59:59Z' }), 0);
      assert.equal(await delivery.acknowledge([{ seq: 1, claim: '00000000-0000-4000-8000-000000000000' }]), 0);
      await rejectsWith(
        delivery.fail(
          { seq: 1, claim: '00000000-0000-4000-8000-000000000000' },
          { error: 'x', retryInMs: -1, maxAttempts: 3 },
        ),
        'invalid_input',
      );
    },
  },
];

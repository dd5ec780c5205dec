import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createOutboxRelay,
  InMemoryUserEngineStore,
  type OutboxMessage,
  type RelayStats,
  retryDelayMs,
  type UserEngineStore,
  type ValidationError,
} from '../src/index.js';
import type { OutboxDelivery } from '../src/store/delivery.js';

/** A ready in-memory store whose clock the test can move (leases and backoffs read it). */
async function storeWithClock() {
  let offset = 0;
  const store = new InMemoryUserEngineStore({ clock: () => new Date(Date.now() + offset) });
  await store.migrate();
  const advance = (ms: number) => {
    offset += ms;
  };
  return { store, advance };
}

/** Commits `perKey` messages for each of `keys` keys, interleaved, each in its own transaction. */
async function fill(store: UserEngineStore, keys: number, perKey: number): Promise<void> {
  for (let n = 1; n <= perKey; n++) {
    for (let k = 0; k < keys; k++) {
      await store.transaction(async (tx) => tx.enqueueOutbox({ topic: 'note.sent', key: `k${k}`, payload: { n } }));
    }
  }
}

const deliveryOf = (store: UserEngineStore): OutboxDelivery => {
  if (store.delivery === undefined) throw new Error('no delivery');
  return store.delivery;
};

/** Runs the relay until the store has no undelivered message (or the deadline passes), then stops it. */
async function runToEmpty(relay: ReturnType<typeof createOutboxRelay>, store: UserEngineStore, ms = 10_000) {
  relay.start();
  const deadline = Date.now() + ms;
  while ((await store.recordCounts()).outboxPending > 0 && Date.now() < deadline) await sleep(5);
  await relay.stop();
}

/** Per key, the `n` of each published message in publish order. */
function perKey(published: readonly OutboxMessage[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of published) out.set(m.key, [...(out.get(m.key) ?? []), Number(m.payload.n)]);
  return out;
}

const inOrder = (ns: readonly number[]) => ns.every((n, i) => n === i + 1);

describe('createOutboxRelay', () => {
  it('publishes every message once, one key at a time in commit order, with many calls in flight', async () => {
    const { store } = await storeWithClock();
    await fill(store, 20, 10);
    const published: OutboxMessage[] = [];
    let inFlight = 0;
    let most = 0;
    const inFlightKeys = new Set<string>();
    const relay = createOutboxRelay({
      store,
      concurrency: 8,
      batchSize: 50,
      publish: async (message) => {
        expect(inFlightKeys.has(message.key), 'two messages of one key in flight').toBe(false);
        inFlightKeys.add(message.key);
        most = Math.max(most, ++inFlight);
        await sleep(Math.random() * 3);
        inFlight--;
        inFlightKeys.delete(message.key);
        published.push(message);
      },
    });
    await runToEmpty(relay, store);
    expect(published).toHaveLength(200);
    expect(new Set(published.map((m) => m.id)).size).toBe(200);
    for (const [key, ns] of perKey(published)) expect(inOrder(ns), `key ${key}: ${ns.join(',')}`).toBe(true);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
    expect(relay.counts()).toMatchObject({ claimed: 200, delivered: 200, retried: 0, dead: 0, released: 0 });
    expect(await deliveryOf(store).stats()).toMatchObject({ pending: 0, claimed: 0, delivered: 200, dead: 0 });
    // What a publish function receives is a plain message: no claim token leaks to the broker.
    expect(Object.keys(published[0] ?? {}).sort()).toEqual(['createdAt', 'id', 'key', 'payload', 'seq', 'topic']);
  });

  it('retries a failed message after a jittered backoff; its key waits for it, other keys go on', async () => {
    const { store } = await storeWithClock();
    await fill(store, 3, 3);
    const published: OutboxMessage[] = [];
    const attempts: number[] = [];
    let failuresLeft = 2;
    const relay = createOutboxRelay({
      store,
      backoff: { baseMs: 20, maxMs: 40 },
      publish: async (message, { attempt }) => {
        if (message.key === 'k1' && message.payload.n === 1 && failuresLeft > 0) {
          failuresLeft--;
          attempts.push(attempt);
          throw Object.assign(new Error('broker said no to alice@example.com'), { code: 'E_NACK' });
        }
        published.push(message);
      },
    });
    await runToEmpty(relay, store);
    expect(attempts).toEqual([1, 2]);
    const order = perKey(published);
    for (const [key, ns] of order) expect(ns, key).toEqual([1, 2, 3]);
    // k0 and k2 were not held up behind k1's retries.
    const firstK1 = published.findIndex((m) => m.key === 'k1');
    expect(published.slice(0, firstK1).filter((m) => m.key !== 'k1').length).toBeGreaterThanOrEqual(4);
    expect(relay.counts()).toMatchObject({ delivered: 9, retried: 2, dead: 0 });
  });

  it('a message that keeps failing dies after maxAttempts, with a reason that quotes no value; its key goes on', async () => {
    const { store } = await storeWithClock();
    await fill(store, 1, 3);
    const published: number[] = [];
    const relay = createOutboxRelay({
      store,
      maxAttempts: 3,
      backoff: { baseMs: 1, maxMs: 2 },
      publish: async (message) => {
        if (message.payload.n === 2) throw new TypeError('cannot send bob@example.com');
        published.push(Number(message.payload.n));
      },
    });
    await runToEmpty(relay, store);
    expect(published).toEqual([1, 3]);
    const [dead] = await deliveryOf(store).inspect({ state: 'dead' });
    expect(dead).toMatchObject({ attempts: 3, lastError: 'TypeError' });
    expect(relay.counts()).toMatchObject({ delivered: 2, retried: 2, dead: 1 });
  });

  it('stop lets calls in flight finish and be acknowledged, and gives back the claims not yet published', async () => {
    const { store } = await storeWithClock();
    await fill(store, 10, 1);
    let started = 0;
    let finished = 0;
    const relay = createOutboxRelay({
      store,
      concurrency: 2,
      publish: async () => {
        started++;
        await sleep(50);
        finished++;
      },
    });
    relay.start();
    while (started < 2) await sleep(1);
    await relay.stop();
    expect(finished).toBe(started);
    const stats = await deliveryOf(store).stats();
    expect(stats).toMatchObject({ claimed: 0, delivered: started, pending: 10 - started });
    expect(relay.counts()).toMatchObject({ delivered: started, released: 10 - started });
    const [next] = await deliveryOf(store).claim({ relay: 'other', leaseMs: 1000, limit: 1 });
    expect(next?.attempt, 'a released claim does not count as an attempt').toBe(1);
    await relay.stop(); // a second stop is harmless
  });

  it('a publish call that outlives publishTimeoutMs is aborted and counted as a failure', async () => {
    const { store } = await storeWithClock();
    await fill(store, 1, 1);
    let aborted = false;
    const relay = createOutboxRelay({
      store,
      leaseMs: 1000,
      publishTimeoutMs: 30,
      maxAttempts: 1,
      publish: (_message, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    expect(await relay.runOnce()).toBe(0);
    expect(aborted).toBe(true);
    const [dead] = await deliveryOf(store).inspect({ state: 'dead' });
    expect(dead?.lastError).toBe('publish timed out');
  });

  it('an acknowledgement the store refused is retried, and nothing is published twice', async () => {
    const { store } = await storeWithClock();
    await fill(store, 5, 2);
    const delivery = deliveryOf(store);
    let refusals = 2;
    const flaky: UserEngineStore = Object.assign(Object.create(store) as UserEngineStore, {
      delivery: {
        ...delivery,
        acknowledge: async (claims: Parameters<OutboxDelivery['acknowledge']>[0]) => {
          if (refusals-- > 0) throw new Error('connection reset');
          return delivery.acknowledge(claims);
        },
      },
    });
    const published: string[] = [];
    const errors: string[] = [];
    const relay = createOutboxRelay({
      store: flaky,
      publish: async (message) => void published.push(message.id),
      onError: (_error, context) => errors.push(context.operation),
    });
    await runToEmpty(relay, store);
    expect(published).toHaveLength(10);
    expect(new Set(published).size).toBe(10);
    expect(errors).toEqual(['acknowledge', 'acknowledge']);
    expect(await delivery.stats()).toMatchObject({ delivered: 10, claimed: 0 });
  });

  it('a relay that dies mid-batch loses nothing: its claims expire and another relay delivers them', async () => {
    const { store, advance } = await storeWithClock();
    await fill(store, 4, 2);
    // The first relay claims a batch and never returns from publishing: as good as dead.
    const dead = createOutboxRelay({ store, leaseMs: 5000, publish: () => new Promise(() => undefined) });
    void dead.runOnce();
    await sleep(10);
    expect(await deliveryOf(store).stats()).toMatchObject({ claimed: 8 });
    const published: OutboxMessage[] = [];
    const survivor = createOutboxRelay({ store, publish: async (m) => void published.push(m) });
    expect(await survivor.runOnce(), 'claims still held are not taken').toBe(0);
    advance(5000);
    await runToEmpty(survivor, store);
    expect(published).toHaveLength(8);
    for (const [key, ns] of perKey(published)) expect(ns, key).toEqual([1, 2]);
  });

  it('reports live figures: counts per interval and in total, and commit-to-acknowledgement lag', async () => {
    const { store } = await storeWithClock();
    await fill(store, 5, 4);
    const stats: RelayStats[] = [];
    const relay = createOutboxRelay({
      store,
      statsIntervalMs: 10,
      publish: async () => sleep(1),
      onStats: (s) => stats.push(s),
    });
    await runToEmpty(relay, store);
    const last = stats.at(-1);
    expect(last?.state).toBe('stopped');
    expect(last?.total.delivered).toBe(20);
    expect(stats.reduce((n, s) => n + s.interval.delivered, 0)).toBe(20);
    const lags = stats.flatMap((s) => (s.lagMs === null ? [] : [s.lagMs]));
    expect(lags.reduce((n, l) => n + l.count, 0)).toBe(20);
    for (const l of lags) expect(l.p50 <= l.p99 && l.p99 <= l.max).toBe(true);
  });

  it('keeps going when the store is unavailable, and delivers once it is back', async () => {
    const { store } = await storeWithClock();
    await fill(store, 2, 2);
    const delivery = deliveryOf(store);
    let down = true;
    const outage: UserEngineStore = Object.assign(Object.create(store) as UserEngineStore, {
      delivery: {
        ...delivery,
        claim: async (request: Parameters<OutboxDelivery['claim']>[0]) => {
          if (down) throw new Error('store unavailable');
          return delivery.claim(request);
        },
      },
    });
    const published: string[] = [];
    const relay = createOutboxRelay({ store: outage, publish: async (m) => void published.push(m.id) });
    relay.start();
    await sleep(150);
    expect(relay.counts().storeErrors).toBeGreaterThan(0);
    down = false;
    const deadline = Date.now() + 10_000;
    while (published.length < 4 && Date.now() < deadline) await sleep(10);
    await relay.stop();
    expect(published).toHaveLength(4);
  });

  it('rejects bad options with a ValidationError', () => {
    const store = new InMemoryUserEngineStore();
    const publish = async () => undefined;
    const bad: [string, object][] = [
      ['publish', { store }],
      ['store', { store: {}, publish }],
      ['batchSize', { store, publish, batchSize: 0 }],
      ['concurrency', { store, publish, concurrency: 1.5 }],
      ['leaseMs', { store, publish, leaseMs: 10 }],
      ['publishTimeoutMs', { store, publish, leaseMs: 10_000, publishTimeoutMs: 6000 }],
      ['maxAttempts', { store, publish, maxAttempts: 0 }],
      ['relayId', { store, publish, relayId: '' }],
      ['onStats', { store, publish, onStats: 'yes' }],
    ];
    for (const [field, options] of bad) {
      expect(() => createOutboxRelay(options as Parameters<typeof createOutboxRelay>[0]), field).toThrow(
        expect.objectContaining({ field }) as unknown as ValidationError,
      );
    }
  });

  it('backs off exponentially, capped, with half of each delay random', () => {
    expect(retryDelayMs(1, 100, 10_000, () => 0)).toBe(50);
    expect(retryDelayMs(1, 100, 10_000, () => 1)).toBe(100);
    expect(retryDelayMs(4, 100, 10_000, () => 0)).toBe(400);
    expect(retryDelayMs(30, 100, 10_000, () => 1)).toBe(10_000);
  });
});

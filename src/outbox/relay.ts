import type { ClaimedMessage, ClaimToken, OutboxDelivery } from '../store/delivery.js';
import { ValidationError } from '../store/errors.js';
import type { OutboxMessage, UserEngineStore } from '../store/store.js';
import { type LagSummary, LagWindow } from './lag.js';

/**
 * Hands one message to a broker. Resolve once the broker has accepted it
 * (durably, if the broker can say so); throw if it did not. The relay calls
 * it for one key at a time, so per-key order holds however many run at once.
 * `signal` aborts when the relay gives up on the call (`publishTimeoutMs`).
 */
export type PublishFunction = (message: OutboxMessage, context: PublishContext) => Promise<void>;

/** What a publish call knows besides the message. */
export interface PublishContext {
  /** 1 for the first attempt at this message, counting every relay's attempts. */
  attempt: number;
  /** Aborted when the relay stops waiting for this call. */
  signal: AbortSignal;
}

/** How a relay runs. Only `store` and `publish` are required. */
export interface OutboxRelayOptions {
  /** A store with `delivery` (every shipped store has it). */
  store: UserEngineStore;
  publish: PublishFunction;
  /** Recorded with each claim, for operators (default: `relay-` and a random id). */
  relayId?: string;
  /** Messages claimed per round trip: 1..1000, default 100. */
  batchSize?: number;
  /** Keys published at once (one call in flight per key): 1..1000, default 100. */
  concurrency?: number;
  /** How long a claim holds before another relay may take the message: default 30 s. */
  leaseMs?: number;
  /** How long one publish call may take: default 10 s, at most half the lease. */
  publishTimeoutMs?: number;
  /** Attempts before a message is dead: default 10. */
  maxAttempts?: number;
  /** Retry delay: exponential from `baseMs` (default 500) up to `maxMs` (default 5 min), with jitter. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** The longest wait between claims while the outbox is empty: default 200 ms (it starts at 5 ms). */
  pollIntervalMs?: number;
  /** How often `onStats` is called: default 1000 ms. */
  statsIntervalMs?: number;
  /** Live figures, once per interval and once on stop. */
  onStats?: (stats: RelayStats) => void;
  /** A failed publish or store call. The relay goes on (store calls are retried after a pause). */
  onError?: (error: unknown, context: RelayErrorContext) => void;
}

/** Where an error reported to `onError` happened. */
export interface RelayErrorContext {
  operation: 'claim' | 'publish' | 'acknowledge' | 'fail' | 'release';
  /** The message, for a publish error. */
  seq?: number;
}

/** Counters of one relay: for the last interval, and since it started. */
export interface RelayCounts {
  claimed: number;
  delivered: number;
  /** Failed publishes that will be tried again. */
  retried: number;
  /** Failed publishes that used the last attempt. */
  dead: number;
  /** Claims given back unpublished (stopping, or a lease too close to its end). */
  released: number;
  /** Failed store calls (claim, acknowledge, fail, release). */
  storeErrors: number;
}

/** What `onStats` receives. */
export interface RelayStats {
  relayId: string;
  /** When these figures were taken (ISO-8601). */
  at: string;
  /** The interval's length in milliseconds. */
  intervalMs: number;
  interval: RelayCounts;
  total: RelayCounts;
  /** Commit to broker acknowledgement, for messages delivered in the interval; null if none. */
  lagMs: LagSummary | null;
  /** Publish calls in flight now. */
  inFlight: number;
  state: 'running' | 'stopping' | 'stopped';
}

/** A running relay. */
export interface OutboxRelay {
  readonly relayId: string;
  /** Starts the loop (once). */
  start(): void;
  /**
   * Stops gracefully: no new claim, publish calls in flight finish (each
   * bounded by `publishTimeoutMs`), their results are recorded, and claims
   * not yet published are given back. Resolves when all of that is done.
   */
  stop(): Promise<void>;
  /** Claims and publishes one batch now, outside the loop; resolves to how many were delivered. */
  runOnce(): Promise<number>;
  /** Totals since the relay was created. */
  counts(): RelayCounts;
  /** Resolves when the loop has ended (after `stop`). */
  readonly stopped: Promise<void>;
}

const zeroCounts = (): RelayCounts => ({
  claimed: 0,
  delivered: 0,
  retried: 0,
  dead: 0,
  released: 0,
  storeErrors: 0,
});

/** The delay before attempt `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half random). */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

interface Settings {
  delivery: OutboxDelivery;
  publish: PublishFunction;
  relayId: string;
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  publishTimeoutMs: number;
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
  pollIntervalMs: number;
  statsIntervalMs: number;
  onStats: ((stats: RelayStats) => void) | undefined;
  onError: ((error: unknown, context: RelayErrorContext) => void) | undefined;
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(name, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function settingsOf(options: OutboxRelayOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
  const { store, publish } = options;
  if (typeof store !== 'object' || store === null) throw new ValidationError('store', 'must be a store');
  if (store.delivery === undefined) throw new ValidationError('store', 'has no outbox delivery');
  if (typeof publish !== 'function') throw new ValidationError('publish', 'must be a function');
  const relayId = options.relayId ?? `relay-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  if (typeof relayId !== 'string' || relayId.length === 0 || relayId.length > 256) {
    throw new ValidationError('relayId', 'must be a string of 1 to 256 characters');
  }
  const leaseMs = integerOption('leaseMs', options.leaseMs, 30_000, 1000, 3_600_000);
  const publishTimeoutMs = integerOption(
    'publishTimeoutMs',
    options.publishTimeoutMs,
    Math.min(10_000, Math.floor(leaseMs / 2)),
    1,
    Math.floor(leaseMs / 2),
  );
  const backoff = options.backoff ?? {};
  const baseMs = integerOption('backoff.baseMs', backoff.baseMs, 500, 0, 86_400_000);
  const maxMs = integerOption('backoff.maxMs', backoff.maxMs, Math.max(300_000, baseMs), baseMs, 86_400_000);
  for (const name of ['onStats', 'onError'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ValidationError(name, 'must be a function');
    }
  }
  return {
    delivery: store.delivery,
    publish,
    relayId,
    batchSize: integerOption('batchSize', options.batchSize, 100, 1, 1000),
    concurrency: integerOption('concurrency', options.concurrency, 100, 1, 1000),
    leaseMs,
    publishTimeoutMs,
    maxAttempts: integerOption('maxAttempts', options.maxAttempts, 10, 1, 1000),
    baseMs,
    maxMs,
    pollIntervalMs: integerOption('pollIntervalMs', options.pollIntervalMs, 200, 5, 60_000),
    statsIntervalMs: integerOption('statsIntervalMs', options.statsIntervalMs, 1000, 10, 3_600_000),
    onStats: options.onStats,
    onError: options.onError,
  };
}

/** The outcome of one publish call. */
type Outcome = { kind: 'delivered' } | { kind: 'failed'; error: unknown } | { kind: 'skipped' };

class PublishTimeout extends Error {
  constructor(ms: number) {
    super(`the publish call did not finish within ${ms} ms`);
    this.name = 'PublishTimeout';
  }
}

/**
 * A short, value-free reason for the dead-letter record: the error's class
 * and code, never its message (a broker's message may quote what it was sent).
 */
function reasonOf(error: unknown): string {
  if (error instanceof PublishTimeout) return 'publish timed out';
  if (typeof error === 'object' && error !== null) {
    const name = (error as { name?: unknown }).name;
    const code = (error as { code?: unknown }).code;
    const parts = [typeof name === 'string' ? name : 'Error'];
    if (typeof code === 'string' || typeof code === 'number') parts.push(String(code));
    return parts.join(' ').slice(0, 200);
  }
  return 'publish failed';
}

/**
 * A relay: takes messages from a store's outbox and hands them to `publish`,
 * in commit order per key (one key's messages one after another; many keys
 * at once); acknowledges what the broker
 * accepted, retries what failed with jittered exponential backoff, and lets
 * a message die after `maxAttempts` (an operator can replay it). Run as many
 * as you like, in one process or many: claims keep them apart, and a relay
 * that dies loses nothing — its claims expire after `leaseMs` and another
 * relay delivers them again. A consumer may therefore see a message twice;
 * the message id is its de-duplication key (docs/outbox.md).
 *
 * @example
 * const relay = createOutboxRelay({
 *   store,
 *   publish: async (message) => { await broker.send(message.topic, JSON.stringify(message), { id: message.id }); },
 *   onStats: (s) => console.log(s.interval.delivered, s.lagMs?.p99),
 * });
 * relay.start();
 * process.on('SIGTERM', () => void relay.stop());
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(settingsOf(options));
}

class Relay implements OutboxRelay {
  readonly relayId: string;
  readonly stopped: Promise<void>;
  readonly #s: Settings;
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #resolveStopped!: () => void;
  #wake: (() => void) | undefined;
  #inFlight = 0;
  #total = zeroCounts();
  #interval = zeroCounts();
  #lag = new LagWindow();
  #intervalStart = Date.now();
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  /** Delivered messages whose acknowledgement the store has not yet taken: retried before the next claim. */
  #unacknowledged: { token: ClaimToken; createdAt: string }[] = [];
  /** Whether the last claim came back full: then there is more to take at once. */
  #lastClaimFull = false;

  constructor(settings: Settings) {
    this.#s = settings;
    this.relayId = settings.relayId;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#intervalStart = Date.now();
    if (this.#s.onStats !== undefined) {
      this.#statsTimer = setInterval(() => this.#emitStats(), this.#s.statsIntervalMs);
      this.#statsTimer.unref?.();
    }
    void this.#loop();
  }

  stop(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      this.#resolveStopped();
    } else if (this.#state === 'running') {
      this.#state = 'stopping';
      this.#wake?.();
    }
    return this.stopped;
  }

  counts(): RelayCounts {
    return { ...this.#total };
  }

  runOnce(): Promise<number> {
    return this.#batch();
  }

  async #loop(): Promise<void> {
    let idleWait = 5;
    let storeWait = 0;
    try {
      while (this.#state === 'running') {
        let delivered: number;
        try {
          delivered = await this.#batch();
          storeWait = 0;
        } catch {
          // A store call failed (#batch reported it): pause, growing to 5 s, then go on.
          storeWait = Math.min(5000, Math.max(100, storeWait * 2));
          await this.#sleep(storeWait);
          continue;
        }
        if (delivered > 0 || this.#lastClaimFull) {
          idleWait = 5;
          continue;
        }
        await this.#sleep(idleWait);
        idleWait = Math.min(this.#s.pollIntervalMs, idleWait * 2);
      }
    } finally {
      await this.#flushAcknowledgements().catch(() => undefined);
      if (this.#statsTimer !== undefined) clearInterval(this.#statsTimer);
      this.#state = 'stopped';
      this.#emitStats();
      this.#resolveStopped();
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  /** One round: acknowledgements owed, a claim, the publishes, their outcomes. Throws only if a store call failed. */
  async #batch(): Promise<number> {
    await this.#flushAcknowledgements();
    // The server starts the lease after this instant, so a deadline counted from it is on the safe side.
    const leaseEnds = Date.now() + this.#s.leaseMs;
    const claimed = await this.#store('claim', () =>
      this.#s.delivery.claim({ relay: this.#s.relayId, limit: this.#s.batchSize, leaseMs: this.#s.leaseMs }),
    );
    this.#lastClaimFull = claimed.length === this.#s.batchSize;
    if (claimed.length === 0) return 0;
    this.#count('claimed', claimed.length);
    const outcomes = await this.#publishAll(claimed, leaseEnds);
    const delivered: ClaimedMessage[] = [];
    const skipped: ClaimedMessage[] = [];
    const failures: Promise<void>[] = [];
    claimed.forEach((message, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.kind === 'delivered') delivered.push(message);
      else if (outcome.kind === 'skipped') skipped.push(message);
      else failures.push(this.#recordFailure(message, outcome.error));
    });
    for (const message of delivered) {
      this.#unacknowledged.push({ token: { seq: message.seq, claim: message.claim }, createdAt: message.createdAt });
    }
    const results = await Promise.allSettled([
      this.#flushAcknowledgements(),
      skipped.length === 0 ? Promise.resolve(0) : this.#release(skipped),
      ...failures,
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return delivered.length;
  }

  /**
   * Publishes the claimed runs, at most `concurrency` keys at a time; one
   * key's messages one after another, in seq order. After a failure, the rest
   * of that key's run is skipped (given back), so nothing of a key overtakes
   * a message that has not gone out. Once stopping, or when a claim's lease
   * is too near its end, nothing more starts.
   */
  async #publishAll(messages: readonly ClaimedMessage[], leaseEnds: number): Promise<Outcome[]> {
    const outcomes: Outcome[] = messages.map(() => ({ kind: 'skipped' }));
    const runs = new Map<string, number[]>();
    messages.forEach((message, i) => {
      const run = runs.get(message.key);
      if (run === undefined) runs.set(message.key, [i]);
      else run.push(i);
    });
    const queue = [...runs.values()];
    const worker = async () => {
      for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
        for (const i of run) {
          const message = messages[i] as ClaimedMessage;
          // Publish only while the claim is sure to outlast the call: a call still running when
          // another relay takes the message would put two copies on the broker out of order.
          if (this.#state === 'stopping' || Date.now() + this.#s.publishTimeoutMs >= leaseEnds) break;
          const outcome = await this.#publishOne(message);
          outcomes[i] = outcome;
          if (outcome.kind === 'failed') break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#s.concurrency, queue.length) }, worker));
    return outcomes;
  }

  async #publishOne(message: ClaimedMessage): Promise<Outcome> {
    const { claim: _claim, attempt, ...plain } = message;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#inFlight++;
    try {
      await Promise.race([
        Promise.resolve().then(() => this.#s.publish(plain, { attempt, signal: controller.signal })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new PublishTimeout(this.#s.publishTimeoutMs));
          }, this.#s.publishTimeoutMs);
        }),
      ]);
      return { kind: 'delivered' };
    } catch (error) {
      this.#report(error, { operation: 'publish', seq: message.seq });
      return { kind: 'failed', error };
    } finally {
      clearTimeout(timer);
      this.#inFlight--;
    }
  }

  async #recordFailure(message: ClaimedMessage, error: unknown): Promise<void> {
    const retryInMs = retryDelayMs(message.attempt, this.#s.baseMs, this.#s.maxMs);
    const result = await this.#store('fail', () =>
      this.#s.delivery.fail(message, { error: reasonOf(error), retryInMs, maxAttempts: this.#s.maxAttempts }),
    );
    if (result === 'dead') this.#count('dead', 1);
    else if (result === 'retry') this.#count('retried', 1);
  }

  async #release(messages: readonly ClaimedMessage[]): Promise<number> {
    const released = await this.#store('release', () => this.#s.delivery.release(messages));
    this.#count('released', released);
    return released;
  }

  /**
   * Acknowledges what the broker accepted; on a store error keeps them for the
   * next round. Late is fine: a claim still held is acknowledged even after its
   * lease ran out, and one another relay took meanwhile is refused by its token.
   */
  async #flushAcknowledgements(): Promise<void> {
    if (this.#unacknowledged.length === 0) return;
    const owed = this.#unacknowledged;
    this.#unacknowledged = [];
    try {
      await this.#store('acknowledge', () => this.#s.delivery.acknowledge(owed.map((u) => u.token)));
    } catch (error) {
      this.#unacknowledged.push(...owed);
      throw error;
    }
    const ackedAt = Date.now();
    for (const u of owed) this.#lag.add(ackedAt - Date.parse(u.createdAt));
    this.#count('delivered', owed.length);
  }

  async #store<T>(operation: RelayErrorContext['operation'], call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.#count('storeErrors', 1);
      this.#report(error, { operation });
      throw error;
    }
  }

  #count(name: keyof RelayCounts, n: number): void {
    this.#total[name] += n;
    this.#interval[name] += n;
  }

  #report(error: unknown, context: RelayErrorContext): void {
    try {
      this.#s.onError?.(error, context);
    } catch {
      // A throwing callback must not stop the relay.
    }
  }

  #emitStats(): void {
    if (this.#s.onStats === undefined) return;
    const now = Date.now();
    const stats: RelayStats = {
      relayId: this.relayId,
      at: new Date(now).toISOString(),
      intervalMs: now - this.#intervalStart,
      interval: this.#interval,
      total: { ...this.#total },
      lagMs: this.#lag.summarize(),
      inFlight: this.#inFlight,
      state: this.#state === 'idle' ? 'stopped' : this.#state,
    };
    this.#interval = zeroCounts();
    this.#lag = new LagWindow();
    this.#intervalStart = now;
    try {
      this.#s.onStats(stats);
    } catch {
      // A throwing callback must not stop the relay.
    }
  }
}

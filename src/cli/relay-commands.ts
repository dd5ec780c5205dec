import { openBrokerPublisher } from '../outbox/brokers/index.js';
import { createOutboxRelay, type RelayCounts, type RelayStats } from '../outbox/relay.js';
import { type DeliveryState, normalizeCutoff, type OutboxDelivery } from '../store/delivery.js';
import { MAX_PAGE_LIMIT } from '../store/queries.js';
import type { UserEngineStore } from '../store/store.js';
import type { Options } from './args.js';
import { type CommandSpec, optional, type Session, type Stream } from './command.js';
import { CliError, UsageError } from './errors.js';
import { fields, table } from './output.js';

const BROKER_SCHEMES = /^(nats|tls|amqps?|rediss?):\/\//i;

async function deliveryOf(session: Session): Promise<{ store: UserEngineStore; delivery: OutboxDelivery }> {
  const store = await session.store.opened();
  if (store.delivery === undefined) throw new CliError('store_unavailable', 'this store has no outbox delivery');
  return { store, delivery: store.delivery };
}

/** One line for people: what the relay did in the last interval and in total. */
function progressLine(s: RelayStats): string {
  const rate = s.intervalMs > 0 ? Math.round((s.interval.delivered * 1000) / s.intervalMs) : 0;
  const lag = s.lagMs === null ? 'lag -' : `lag p50 ${s.lagMs.p50} ms p99 ${s.lagMs.p99} ms`;
  const t = s.total;
  return `delivered ${t.delivered} (${rate}/s), retried ${t.retried}, dead ${t.dead}, ${lag}${t.storeErrors > 0 ? `, store errors ${t.storeErrors}` : ''}`;
}

function totalsText(relayId: string, target: string, t: RelayCounts): string {
  return fields([
    ['relay', relayId],
    ['to', target],
    ['delivered', String(t.delivered)],
    ['retried', String(t.retried)],
    ['dead', String(t.dead)],
    ['released', String(t.released)],
    ['store errors', String(t.storeErrors)],
  ]);
}

/**
 * Reports errors without flooding: the first of each kind (operation and
 * error class) at once, then at most one line per kind per interval, with how
 * many of that kind were seen meanwhile. Only the error's class and code are
 * printed — never a message, which could quote what was sent.
 */
function errorReporter(stream: Stream, intervalMs: number) {
  const kinds = new Map<string, { last: number; suppressed: number }>();
  return (error: unknown, operation: string) => {
    const name = error instanceof Error ? error.name : 'Error';
    const code = (error as { code?: unknown }).code;
    const kind = `${operation}:${name}:${String(code)}`;
    const seen = kinds.get(kind) ?? { last: Number.NEGATIVE_INFINITY, suppressed: 0 };
    kinds.set(kind, seen);
    const now = Date.now();
    if (now - seen.last < intervalMs) {
      seen.suppressed++;
      return;
    }
    const what = `${operation} failed (${name}${typeof code === 'string' ? ` ${code}` : ''})`;
    const more = seen.suppressed > 0 ? `; ${seen.suppressed} more like it since the last report` : '';
    seen.suppressed = 0;
    seen.last = now;
    if (stream.json) stream.err(JSON.stringify({ warning: { operation, error: name, code: code ?? null } }));
    else stream.err(`user-engine: ${what}; retrying${more}`);
  };
}

const STOPPED = Symbol('stopped');

/** The relay's answer when a signal came while it was still connecting. */
const stoppedBeforeStart = {
  json: { stoppedBeforeStart: true },
  jsonLine: true,
  text: 'user-engine: relay stopped before it started; nothing was claimed',
};

const relay: CommandSpec = {
  name: 'relay',
  synopsis:
    '--to URL [--relay-id NAME] [--batch N] [--concurrency N] [--lease-ms N] [--max-attempts N] [--interval-ms N] [--until-empty]',
  summary: 'deliver the outbox to NATS JetStream, RabbitMQ or Redis Streams until stopped',
  details: `Claims outbox messages, publishes each to the broker --to names, and marks it
delivered once the broker has taken it: nats://host:4222 (JetStream, de-duplicated by
message id), amqp://user:password@host:5672 (RabbitMQ, publisher confirms),
redis://host:6379 (a Redis Stream, de-duplicated by id). One user's events go out in
commit order; run as many relays as you like. A relay that dies loses nothing: its
claims expire after --lease-ms and another relay sends them again.

Runs until SIGTERM or SIGINT, then finishes what is in flight, gives back the rest
and exits 0 (a second SIGINT exits at once). --until-empty exits 0 once nothing is
left to deliver. Progress goes to stderr every --interval-ms (default 1000); with
--json, one JSON object per interval on stdout. Exit 3 if the store or the broker
cannot be reached at the start; later outages are retried for as long as it runs.

Broker options go in the URL: nats://…?stream=USER_ENGINE&subject_prefix=user-engine,
amqp://…?exchange=user-engine&queue=user-engine, redis://…?stream=user-engine:events
(docs/outbox.md).`,
  args: [],
  options: ['to', 'relay-id', 'batch', 'concurrency', 'lease-ms', 'max-attempts', 'interval-ms', 'until-empty'],
  store: 'existing',
  prepare: (_args, options) => {
    const to = options.required('to', ' (a broker URL: nats://, amqp:// or redis://)');
    if (!BROKER_SCHEMES.test(to)) throw new UsageError('--to must be a nats://, amqp:// or redis:// URL');
    const settings = {
      ...optional('relayId', options.string('relay-id')),
      ...optional('batchSize', options.integer('batch', 1, 1000)),
      ...optional('concurrency', options.integer('concurrency', 1, 1000)),
      ...optional('leaseMs', options.integer('lease-ms', 1000, 3_600_000)),
      ...optional('maxAttempts', options.integer('max-attempts', 1, 1000)),
    };
    const intervalMs = options.integer('interval-ms', 10, 3_600_000) ?? 1000;
    const untilEmpty = options.flag('until-empty');
    return async (session) => {
      // Signals are the relay's from its first moment: a supervisor may stop a
      // relay while it is still connecting, and that is a clean stop (exit 0,
      // nothing was claimed), not a death by signal nor a wait for a timeout.
      let interrupts = 0;
      let relayRun: ReturnType<typeof createOutboxRelay> | undefined;
      let stopRequested!: () => void;
      const stopSignal = new Promise<typeof STOPPED>((resolve) => {
        stopRequested = () => resolve(STOPPED);
      });
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        if (interrupts > 1 && signal === 'SIGINT') process.exit(130);
        stopRequested();
        if (relayRun !== undefined) void relayRun.stop();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      /** A setup step, unless a stop comes first; what it opens after that is closed. */
      const unlessStopped = async <T>(step: Promise<T>, abandon?: (value: T) => Promise<void>) => {
        const outcome = await Promise.race([step.then((value) => ({ value })), stopSignal]);
        if (outcome !== STOPPED) return outcome.value;
        void step.then(abandon, () => undefined).catch(() => undefined);
        return STOPPED;
      };
      let broker: Awaited<ReturnType<typeof openBrokerPublisher>> | undefined;
      let watcher: ReturnType<typeof setInterval> | undefined;
      try {
        const opened = await unlessStopped(deliveryOf(session));
        if (opened === STOPPED) return stoppedBeforeStart;
        const { store } = opened;
        // The store is reachable and migrated before the broker is touched.
        if ((await unlessStopped(store.pendingOutbox({ limit: 1 }))) === STOPPED) return stoppedBeforeStart;
        const publisher = await unlessStopped(openBrokerPublisher(to), (late) => late.close());
        if (publisher === STOPPED) return stoppedBeforeStart;
        broker = publisher;
        const { stream } = session;
        const reportError = errorReporter(stream, intervalMs);
        const run = createOutboxRelay({
          store,
          publish: broker.publish,
          ...settings,
          statsIntervalMs: intervalMs,
          onError: (error, context) => reportError(error, context.operation),
          onStats: (s) => {
            if (s.state === 'stopped') return;
            if (stream.json) stream.out(JSON.stringify(s));
            else if (stream.interactive) process.stderr.write(`\ruser-engine: ${progressLine(s)}\u001b[K`);
            else if (s.interval.claimed + s.interval.storeErrors > 0) stream.err(`user-engine: ${progressLine(s)}`);
          },
        });
        relayRun = run;
        const started = Date.now();
        run.start();
        if (stream.json) stream.out(JSON.stringify({ relayId: run.relayId, to: broker.target, started: true }));
        else stream.err(`user-engine: relay ${run.relayId} delivering to ${broker.target}`);
        if (untilEmpty) {
          let checking = false;
          watcher = setInterval(
            () => {
              if (checking) return;
              checking = true;
              store
                .pendingOutbox({ limit: 1 })
                .then((left) => {
                  if (left.length === 0) void run.stop();
                })
                .catch(() => undefined)
                .finally(() => {
                  checking = false;
                });
            },
            Math.min(intervalMs, 200),
          );
        }
        await run.stopped;
        if (stream.interactive && !stream.json) process.stderr.write('\n');
        const total = run.counts();
        return {
          json: { relayId: run.relayId, to: broker.target, elapsedMs: Date.now() - started, total },
          jsonLine: true,
          text: totalsText(run.relayId, broker.target, total),
        };
      } finally {
        // The handlers stay: the process may take a moment to end (an abandoned connection, the
        // store closing), and a second SIGINT must still exit 130, a SIGTERM not kill it mid-close.
        if (watcher !== undefined) clearInterval(watcher);
        await broker?.close().catch(() => undefined);
      }
    };
  },
};

const STATES: readonly DeliveryState[] = ['pending', 'claimed', 'delivered', 'dead'];

const status: CommandSpec = {
  name: 'delivery status',
  synopsis: '',
  summary: 'outbox messages per delivery state, and the age of the oldest not yet delivered',
  args: [],
  options: [],
  store: 'existing',
  prepare: () => async (session) => {
    const { delivery } = await deliveryOf(session);
    const stats = await delivery.stats();
    const age = stats.oldestUndeliveredAt === null ? '-' : `${Date.now() - Date.parse(stats.oldestUndeliveredAt)} ms`;
    return {
      json: stats,
      text: fields([
        ...STATES.map((s): [string, string] => [s, String(stats[s])]),
        ['oldest undelivered', stats.oldestUndeliveredAt ?? '-'],
        ['its age', age],
      ]),
    };
  },
};

const list: CommandSpec = {
  name: 'delivery list',
  synopsis: '--state pending|claimed|delivered|dead [--after-seq N] [--limit N]',
  summary: `outbox messages in one delivery state, oldest first (default 100, at most ${MAX_PAGE_LIMIT})`,
  args: [],
  options: ['state', 'after-seq', 'limit'],
  store: 'existing',
  prepare: (_args, options) => {
    const state = options.required('state', ` (${STATES.join(', ')})`);
    if (!(STATES as readonly string[]).includes(state))
      throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    const query = {
      state: state as DeliveryState,
      ...optional('afterSeq', options.integer('after-seq', 0)),
      ...optional('limit', options.integer('limit', 1, MAX_PAGE_LIMIT)),
    };
    return async (session) => {
      const { delivery } = await deliveryOf(session);
      const records = await delivery.inspect(query);
      return {
        json: { records },
        text: table(records, [
          { header: 'SEQ', value: (r) => String(r.seq) },
          { header: 'TOPIC', value: (r) => r.topic },
          { header: 'KEY', value: (r) => r.key },
          { header: 'STATE', value: (r) => r.state },
          { header: 'ATTEMPTS', value: (r) => String(r.attempts) },
          { header: 'LAST ERROR', value: (r) => r.lastError ?? '-', max: 40 },
          { header: 'SETTLED', value: (r) => r.settledAt ?? '-' },
        ]),
      };
    };
  },
};

/** `12,15,20-24` as seq numbers (at most 10,000). */
function parseSeqs(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const match = /^(\d{1,15})(?:-(\d{1,15}))?$/.exec(part.trim());
    const from = Number(match?.[1]);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (match === null || from < 1 || to < from || to - from >= 10_000 || out.length + (to - from) >= 10_000) {
      throw new UsageError('SEQS must be sequence numbers and ranges, such as 12,15,20-24 (at most 10000)');
    }
    for (let seq = from; seq <= to; seq++) out.push(seq);
  }
  return out;
}

const replay: CommandSpec = {
  name: 'delivery replay',
  synopsis: 'SEQS',
  summary: 'make dead (or delivered) messages pending again, e.g. 12,15,20-24; a relay sends them again',
  args: ['SEQS'],
  options: [],
  store: 'existing',
  prepare: ([text = '']) => {
    const seqs = parseSeqs(text);
    return async (session) => {
      const { delivery } = await deliveryOf(session);
      const replayed = await delivery.replay(seqs);
      return { json: { replayed }, text: `made ${replayed} of ${seqs.length} messages pending again` };
    };
  },
};

const prune: CommandSpec = {
  name: 'delivery prune',
  synopsis: '--delivered-before ISO-8601',
  summary: 'delete delivered messages settled before a time (retention), with their outbox rows',
  args: [],
  options: ['delivered-before'],
  store: 'existing',
  prepare: (_args, options: Options) => {
    const before = options.required('delivered-before', ' (an ISO-8601 time, e.g. 2026-11-01T00:00:00Z)');
    try {
      normalizeCutoff({ deliveredBefore: before });
    } catch {
      throw new UsageError('--delivered-before must be an ISO-8601 time with a zone, such as 2026-11-01T00:00:00Z');
    }
    return async (session) => {
      const { delivery } = await deliveryOf(session);
      const pruned = await delivery.prune({ deliveredBefore: before });
      return { json: { pruned }, text: `deleted ${pruned} delivered messages` };
    };
  },
};

export const RELAY_COMMANDS: readonly CommandSpec[] = [relay, status, list, replay, prune];

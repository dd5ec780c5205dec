import type { OutboxMessage } from '../../store/store.js';
import type { PublishContext } from '../relay.js';
import {
  abortable,
  BrokerError,
  type BrokerPublisher,
  encodeMessage,
  loadClient,
  msOption,
  parseBrokerUrl,
  redactUrl,
} from './broker.js';

/** Where and how a Redis publisher writes. */
export interface RedisPublisherOptions {
  /** `redis[s]://[user:password@]host:port[/db]`; URL options `stream`, `dedupe_window_ms`, `maxlen`, `connect_timeout_ms` set the fields below. */
  url: string;
  /** The stream key. Default `user-engine:events`. */
  stream?: string;
  /** How long an id is remembered to drop a copy sent again. Default 10 minutes. */
  dedupeWindowMs?: number;
  /** Trim the stream to about this many entries (`MAXLEN ~`); unset keeps every entry. */
  maxLength?: number;
  /** How long a connection attempt may take. Default 5 s. */
  connectTimeoutMs?: number;
}

const OUR_OPTIONS = ['stream', 'dedupe_window_ms', 'maxlen', 'connect_timeout_ms'];

// One atomic step: drop an id seen within the window, else append the entry and remember the id.
// The remembered key shares the stream's hash slot, so the script also runs on a Redis Cluster.
const APPEND_ONCE = `
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
local entry
if ARGV[7] == '' then
  entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'topic', ARGV[3], 'key', ARGV[4], 'seq', ARGV[5], 'message', ARGV[6])
else
  entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[7], '*', 'id', ARGV[1], 'topic', ARGV[3], 'key', ARGV[4], 'seq', ARGV[5], 'message', ARGV[6])
end
redis.call('SET', KEYS[2], entry, 'PX', ARGV[2])
return {1, entry}`;

/** The key that remembers an id: in the stream key's hash slot (its hash tag, or the whole key as one). */
export function seenKey(stream: string, id: string): string {
  return /\{[^}]+\}/.test(stream) ? `${stream}:seen:${id}` : `{${stream}}:seen:${id}`;
}

/**
 * Publishes to a Redis Stream: one `XADD` per message with fields `id` (the
 * outbox id), `topic`, `key`, `seq` and `message` (the JSON body), run in a
 * script that first drops an id already appended within the de-duplication
 * window — so a copy the relay sends again does not reach consumers. Resolves
 * on Redis's reply. Commands are not queued while disconnected: a publish
 * then fails at once and the relay retries it.
 *
 * Redis keeps the stream only as durably as its own persistence settings
 * (AOF, replicas); a broker that forgets acknowledged writes on restart
 * forgets events too.
 *
 * Needs the optional package `redis`.
 */
export async function redisPublisher(options: RedisPublisherOptions): Promise<BrokerPublisher> {
  const url = parseBrokerUrl(options.url, ['redis:', 'rediss:']);
  const stream = options.stream ?? url.searchParams.get('stream') ?? 'user-engine:events';
  const dedupeWindowMs = options.dedupeWindowMs ?? msOption(url, 'dedupe_window_ms', 600_000);
  const maxLength = options.maxLength ?? (url.searchParams.has('maxlen') ? msOption(url, 'maxlen', 1) : undefined);
  const connectTimeoutMs = options.connectTimeoutMs ?? msOption(url, 'connect_timeout_ms', 5000);
  if (stream.length === 0) throw new BrokerError('invalid_url', 'the stream key is empty');
  const clientUrl = new URL(url.href);
  for (const name of OUR_OPTIONS) clientUrl.searchParams.delete(name);
  const redis = await loadClient('redis', () => import('redis'));
  const where = redactUrl(url);
  // The first connection fails fast (a wrong URL should not hang); after it, reconnect for ever.
  let connectedOnce = false;
  const client = redis.createClient({
    url: clientUrl.href,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) => (connectedOnce ? Math.min(50 * 2 ** retries, 1000) : cause),
    },
  });
  // Errors surface through the publish calls that meet them; the client reconnects on its own.
  client.on('error', () => undefined);
  try {
    await client.connect();
    connectedOnce = true;
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new BrokerError('unreachable', `cannot connect to Redis at ${where}`, { cause: error });
  }
  return {
    kind: 'redis',
    target: `${where} stream ${stream}`,
    async publish(message: OutboxMessage, { signal }: PublishContext) {
      if (!client.isReady) throw new BrokerError('unreachable', `Redis at ${where} is not connected`);
      await abortable(
        client.eval(APPEND_ONCE, {
          keys: [stream, seenKey(stream, message.id)],
          arguments: [
            message.id,
            String(dedupeWindowMs),
            message.topic,
            message.key,
            String(message.seq),
            encodeMessage(message),
            maxLength === undefined ? '' : String(maxLength),
          ],
        }),
        signal,
      );
    },
    async close() {
      if (client.isOpen) await client.close();
    },
  };
}

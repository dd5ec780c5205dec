import type { NatsConnection } from 'nats';
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

/** Where and how a NATS publisher writes. */
export interface NatsPublisherOptions {
  /** `nats://[user:password@ | token@]host:port`; URL options `stream`, `subject_prefix`, `duplicate_window_ms` set the fields below. */
  url: string;
  /** The JetStream stream; created when missing. Default `USER_ENGINE`. */
  stream?: string;
  /** Each message goes to `<prefix>.<topic>`, e.g. `user-engine.user.registered`. Default `user-engine`. */
  subjectPrefix?: string;
  /** The de-duplication window of a stream this publisher creates. Default 10 minutes. */
  duplicateWindowMs?: number;
  /** How long the first connection may take. Default 5 s. */
  connectTimeoutMs?: number;
}

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Publishes to NATS JetStream: each message to `<prefix>.<topic>` with the
 * outbox id as its message id (`Nats-Msg-Id`), so the stream drops a copy
 * the relay sends again within the duplicate window — a consumer sees each
 * event once. Resolves on the stream's acknowledgement. Creates the stream
 * (file storage, subjects `<prefix>.>`) if it does not exist.
 *
 * Needs the optional package `nats`.
 */
export async function natsPublisher(options: NatsPublisherOptions): Promise<BrokerPublisher> {
  const url = parseBrokerUrl(options.url, ['nats:', 'tls:']);
  const stream = options.stream ?? url.searchParams.get('stream') ?? 'USER_ENGINE';
  const prefix = options.subjectPrefix ?? url.searchParams.get('subject_prefix') ?? 'user-engine';
  const duplicateWindowMs = options.duplicateWindowMs ?? msOption(url, 'duplicate_window_ms', 600_000);
  if (!STREAM_NAME.test(stream))
    throw new BrokerError('invalid_url', 'the stream name may hold letters, digits, - and _');
  if (!SUBJECT_TOKEN.test(prefix))
    throw new BrokerError('invalid_url', 'the subject prefix must be dot-separated tokens');
  const nats = await loadClient('nats', () => import('nats'));
  const auth =
    url.password !== ''
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : url.username !== ''
        ? { token: decodeURIComponent(url.username) }
        : {};
  let connection: NatsConnection;
  try {
    connection = await nats.connect({
      servers: `${url.protocol === 'tls:' ? 'tls' : 'nats'}://${url.host}`,
      name: 'user-engine-relay',
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...auth,
    });
  } catch (error) {
    throw new BrokerError('unreachable', `cannot connect to NATS at ${redactUrl(url)}`, { cause: error });
  }
  try {
    const manager = await connection.jetstreamManager();
    try {
      const info = await manager.streams.info(stream);
      const subjects = info.config.subjects ?? [];
      if (!subjects.some((s) => s === `${prefix}.>` || s === '>')) {
        throw new BrokerError('rejected', `stream ${stream} does not take subjects ${prefix}.>`);
      }
    } catch (error) {
      if (String((error as { code?: unknown }).code) !== '404') throw error;
      await manager.streams.add({
        name: stream,
        subjects: [`${prefix}.>`],
        duplicate_window: nats.nanos(duplicateWindowMs),
        storage: nats.StorageType.File,
      });
    }
  } catch (error) {
    await connection.close().catch(() => undefined);
    if (error instanceof BrokerError) throw error;
    // JetStream's refusals carry an API error (a bad stream config, no JetStream account…);
    // anything else is the connection going away, or no server answering, during the setup.
    if ((error as { api_error?: unknown }).api_error !== undefined) {
      throw new BrokerError('rejected', `JetStream at ${redactUrl(url)} refused to set up stream ${stream}`, {
        cause: error,
      });
    }
    const noJetStream = String((error as { code?: unknown }).code) === '503';
    throw new BrokerError(
      'unreachable',
      noJetStream
        ? `no JetStream answered at ${redactUrl(url)} (is the server running with JetStream enabled?)`
        : `lost NATS at ${redactUrl(url)} while setting up JetStream`,
      { cause: error },
    );
  }
  const jetstream = connection.jetstream();
  const encoder = new TextEncoder();
  return {
    kind: 'nats',
    target: `${redactUrl(url)} stream ${stream}`,
    async publish(message: OutboxMessage, { signal }: PublishContext) {
      if (!SUBJECT_TOKEN.test(message.topic)) {
        throw new BrokerError('rejected', `topic of message ${message.seq} is not a NATS subject`);
      }
      const ack = await abortable(
        jetstream.publish(`${prefix}.${message.topic}`, encoder.encode(encodeMessage(message)), {
          msgID: message.id,
          expect: { streamName: stream },
          timeout: 60_000,
        }),
        signal,
      );
      if (ack.stream !== stream) throw new BrokerError('rejected', `message ${message.seq} went to another stream`);
    },
    async close() {
      await connection.close();
    },
  };
}

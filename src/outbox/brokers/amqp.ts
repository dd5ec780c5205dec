import type { ChannelModel, ConfirmChannel } from 'amqplib';
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

/** Where and how an AMQP publisher writes. */
export interface AmqpPublisherOptions {
  /** `amqp[s]://user:password@host:port/vhost`; URL options `exchange`, `queue`, `connect_timeout_ms` set the fields below. */
  url: string;
  /** A durable topic exchange, declared if missing; the routing key is the topic. Default `user-engine`. */
  exchange?: string;
  /**
   * A durable queue bound to every topic (`#`), declared if missing, so
   * events wait for a consumer that is not there yet. Default `user-engine`;
   * `''` declares none (then bind your own queues before the relay runs:
   * an event no queue takes is refused and retried, never dropped).
   */
  queue?: string;
  /** How long a connection attempt may take. Default 5 s. */
  connectTimeoutMs?: number;
}

const OUR_OPTIONS = ['exchange', 'queue', 'connect_timeout_ms'];

/**
 * Publishes to RabbitMQ (AMQP 0-9-1) on a confirm channel: each message
 * persistent, `mandatory`, with the outbox id as `message_id`, the topic as
 * routing key and `type`. Resolves on the broker's confirm; a message no
 * queue would take comes back (basic.return) and fails, so an unbound
 * exchange never swallows an event. Reconnects on the next publish after the
 * connection drops.
 *
 * RabbitMQ does not de-duplicate: a message the relay sends again (after a
 * relay died between the confirm and its acknowledgement) reaches consumers
 * twice. Consumers de-duplicate by `message_id` (docs/outbox.md).
 *
 * Needs the optional package `amqplib`.
 */
export async function amqpPublisher(options: AmqpPublisherOptions): Promise<BrokerPublisher> {
  const url = parseBrokerUrl(options.url, ['amqp:', 'amqps:']);
  const exchange = options.exchange ?? url.searchParams.get('exchange') ?? 'user-engine';
  const queue = options.queue ?? url.searchParams.get('queue') ?? 'user-engine';
  const connectTimeoutMs = options.connectTimeoutMs ?? msOption(url, 'connect_timeout_ms', 5000);
  const clientUrl = new URL(url.href);
  for (const name of OUR_OPTIONS) clientUrl.searchParams.delete(name);
  const amqp = await loadClient('amqplib', () => import('amqplib'));
  const where = redactUrl(url);

  let open: Promise<{ model: ChannelModel; channel: ConfirmChannel; returned: Set<string> }> | undefined;
  let closed = false;

  const connectOnce = async () => {
    let model: ChannelModel;
    try {
      model = await amqp.connect(clientUrl.href, { timeout: connectTimeoutMs });
    } catch (error) {
      throw new BrokerError('unreachable', `cannot connect to RabbitMQ at ${where}`, { cause: error });
    }
    // A dropped connection is reopened by the next publish; the error itself is the relay's to count.
    const forget = () => {
      open = undefined;
    };
    model.on('error', forget);
    model.on('close', forget);
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', forget);
      channel.on('close', forget);
      await channel.assertExchange(exchange, 'topic', { durable: true });
      if (queue !== '') {
        await channel.assertQueue(queue, { durable: true });
        await channel.bindQueue(queue, exchange, '#');
      }
      const returned = new Set<string>();
      channel.on('return', (message: { properties: { messageId?: unknown } }) => {
        if (typeof message.properties.messageId === 'string') returned.add(message.properties.messageId);
      });
      return { model, channel, returned };
    } catch (error) {
      await model.close().catch(() => undefined);
      // A broker's refusal carries an AMQP reply code (406 PRECONDITION_FAILED, 403 ACCESS_REFUSED…);
      // anything else is the connection going away during the setup.
      if (typeof (error as { code?: unknown }).code === 'number') {
        throw new BrokerError('rejected', `RabbitMQ at ${where} refused to set up exchange ${exchange}`, {
          cause: error,
        });
      }
      throw new BrokerError('unreachable', `lost RabbitMQ at ${where} while setting up`, { cause: error });
    }
  };
  const connection = () => {
    if (closed) return Promise.reject(new BrokerError('closed', 'the publisher is closed'));
    if (open === undefined) {
      const attempt = connectOnce();
      open = attempt;
      attempt.catch(() => {
        if (open === attempt) open = undefined;
      });
    }
    return open;
  };
  await connection();

  /** Forgets the connection and closes it in the background (a stalled one may never answer the close). */
  const resetConnection = () => {
    const current = open;
    open = undefined;
    void current?.then(
      (opened) => opened.model.close().catch(() => undefined),
      () => undefined,
    );
  };

  return {
    kind: 'amqp',
    target: `${where} exchange ${exchange}`,
    async publish(message: OutboxMessage, { signal }: PublishContext) {
      const { channel, returned } = await abortable(connection(), signal);
      const confirmed = new Promise<void>((resolve, reject) => {
        channel.publish(
          exchange,
          message.topic,
          Buffer.from(encodeMessage(message)),
          {
            persistent: true,
            mandatory: true,
            messageId: message.id,
            type: message.topic,
            contentType: 'application/json',
            timestamp: Math.floor(Date.parse(message.createdAt) / 1000),
          },
          (error: unknown) => {
            const unroutable = returned.delete(message.id);
            if (error !== null && error !== undefined) {
              reject(new BrokerError('rejected', `RabbitMQ did not confirm message ${message.seq}`, { cause: error }));
            } else if (unroutable) {
              reject(new BrokerError('rejected', `no queue is bound for message ${message.seq} on ${exchange}`));
            } else {
              resolve();
            }
          },
        );
      });
      try {
        await abortable(confirmed, signal);
      } catch (error) {
        // Abandoned by the relay: drop the connection, so a message still in the client's buffer is
        // not sent after the relay has moved on (one already on the wire cannot be recalled).
        if (signal.aborted) resetConnection();
        throw error;
      }
    },
    async close() {
      closed = true;
      const current = open;
      open = undefined;
      if (current !== undefined) {
        const { model } = await current.catch(() => ({ model: undefined }));
        await model?.close().catch(() => undefined);
      }
    },
  };
}

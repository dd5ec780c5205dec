// The `user-engine/brokers` entry point: publishers for a relay, one per
// broker, each loading its client (an optional peer package) only when opened.
// With createOutboxRelay from `user-engine`:
//   const broker = await openBrokerPublisher('nats://127.0.0.1:4222');
//   const relay = createOutboxRelay({ store, publish: broker.publish });

import { amqpPublisher } from './amqp.js';
import { BrokerError, type BrokerPublisher } from './broker.js';
import { natsPublisher } from './nats.js';
import { redisPublisher } from './redis.js';

export { type AmqpPublisherOptions, amqpPublisher } from './amqp.js';
export {
  BrokerError,
  type BrokerErrorCode,
  type BrokerKind,
  type BrokerPublisher,
  encodeMessage,
} from './broker.js';
export { type NatsPublisherOptions, natsPublisher } from './nats.js';
export { type RedisPublisherOptions, redisPublisher } from './redis.js';

/**
 * Opens the publisher a URL names: `nats://` (JetStream), `amqp://` or
 * `amqps://` (RabbitMQ), `redis://` or `rediss://` (Redis Streams). URL
 * options (`?stream=…`, `?exchange=…`) are each publisher's; see its options.
 *
 * @example
 * const broker = await openBrokerPublisher('amqp://guest:guest@127.0.0.1:5672');
 * const relay = createOutboxRelay({ store, publish: broker.publish });
 */
export function openBrokerPublisher(url: string): Promise<BrokerPublisher> {
  const scheme = /^([a-z]+):/i.exec(typeof url === 'string' ? url : '')?.[1]?.toLowerCase();
  switch (scheme) {
    case 'nats':
    case 'tls':
      return natsPublisher({ url });
    case 'amqp':
    case 'amqps':
      return amqpPublisher({ url });
    case 'redis':
    case 'rediss':
      return redisPublisher({ url });
    default:
      return Promise.reject(
        new BrokerError(
          'invalid_url',
          'the broker URL must start with nats://, amqp://, amqps://, redis:// or rediss://',
        ),
      );
  }
}

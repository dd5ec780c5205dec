// What the proof's consumer sees, per broker: every message body, in the order
// the broker hands them over, read through the broker itself (not the store).
import amqp from 'amqplib';
import { connect as connectNats } from 'nats';
import { createClient } from 'redis';

/** One message as a consumer received it. */
export interface Receipt {
  body: string;
}

export interface Consumer {
  readonly receipts: Receipt[];
  close(): Promise<void>;
}

/** Reads the whole JetStream stream, from its first message, with an ordered consumer. */
export async function natsConsumer(url: string, stream: string): Promise<Consumer> {
  const connection = await connectNats({ servers: url });
  // An ordered consumer: from the stream's first message, in stream order.
  const consumer = await connection.jetstream().consumers.get(stream);
  const messages = await consumer.consume();
  const receipts: Receipt[] = [];
  const done = (async () => {
    for await (const m of messages) receipts.push({ body: m.string() });
  })();
  return {
    receipts,
    async close() {
      await messages.close();
      await done.catch(() => undefined);
      await connection.close();
    },
  };
}

/** Consumes the queue the publisher declared, acknowledging each message after recording it. */
export async function amqpConsumer(url: string, queue: string): Promise<Consumer> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(500);
  const receipts: Receipt[] = [];
  const { consumerTag } = await channel.consume(queue, (m) => {
    if (m === null) return;
    receipts.push({ body: m.content.toString('utf8') });
    channel.ack(m);
  });
  return {
    receipts,
    async close() {
      await channel.cancel(consumerTag).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/** Reads the stream from its start with blocking XREAD. */
export async function redisConsumer(url: string, stream: string): Promise<Consumer> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const receipts: Receipt[] = [];
  let running = true;
  let last = '0-0';
  const done = (async () => {
    while (running) {
      const reply = await client.xRead({ key: stream, id: last }, { BLOCK: 200, COUNT: 1000 });
      if (reply === null || !Array.isArray(reply)) continue;
      for (const entry of reply as { messages: { id: string; message: Record<string, string> }[] }[]) {
        for (const m of entry.messages) {
          receipts.push({ body: m.message.message ?? '' });
          last = m.id;
        }
      }
    }
  })();
  return {
    receipts,
    async close() {
      running = false;
      await done.catch(() => undefined);
      await client.close();
    },
  };
}

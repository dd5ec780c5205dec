// The broker publishers against the live brokers (USER_ENGINE_TEST_BROKERS=1;
// CI starts NATS, RabbitMQ and Redis): what each takes as accepted, what each
// de-duplicates, and how each failure is classified — the codes the relay and
// the CLI's exit codes depend on. Every name is the test's own, deleted after.
import amqp from 'amqplib';
import { connect as connectNats } from 'nats';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../src/index.js';
import { BrokerError, openBrokerPublisher } from '../src/outbox/brokers/index.js';

const enabled = process.env.USER_ENGINE_TEST_BROKERS === '1';
const tag = `${process.pid}${Date.now().toString(36)}`;
const cleanups: (() => Promise<void>)[] = [];
const signal = new AbortController().signal;

function message(n: number, extra: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: `0190c2d4-0000-7000-8000-${String(n).padStart(12, '0')}`,
    seq: n,
    topic: 'user.registered',
    key: 'u1',
    payload: { userId: 'u1', version: n, status: 'active', fields: ['email'] },
    createdAt: new Date().toISOString(),
    ...extra,
  };
}

async function failure(work: Promise<unknown>): Promise<BrokerError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BrokerError);
  return error as BrokerError;
}

describe.skipIf(!enabled)('broker publishers (live brokers)', () => {
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  });

  it('NATS JetStream: creates the stream, drops a copy by message id, refuses a stream that does not take the subjects', async () => {
    const stream = `UE_TEST_${tag}`;
    const nc = await connectNats({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await nc.jetstreamManager();
    cleanups.push(async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(`${stream}_OTHER`).catch(() => undefined);
      await nc.close();
    });
    const publisher = await openBrokerPublisher(`nats://127.0.0.1:4222?stream=${stream}&subject_prefix=uetest${tag}`);
    await publisher.publish(message(1), { attempt: 1, signal });
    await publisher.publish(message(1), { attempt: 2, signal });
    await publisher.publish(message(2), { attempt: 1, signal });
    await publisher.close();
    const info = await jsm.streams.info(stream);
    expect(info.state.messages, 'the copy was dropped').toBe(2);
    expect(info.config.subjects).toEqual([`uetest${tag}.>`]);
    await jsm.streams.add({ name: `${stream}_OTHER`, subjects: [`elsewhere${tag}.>`] });
    const refused = await failure(
      openBrokerPublisher(`nats://127.0.0.1:4222?stream=${stream}_OTHER&subject_prefix=uetest${tag}`),
    );
    expect(refused.code).toBe('rejected');
  });

  it('RabbitMQ: a confirmed, persistent message with its id; an event no queue takes fails instead of vanishing', async () => {
    const name = `ue-test-${tag}`;
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    cleanups.push(async () => {
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.deleteExchange(name).catch(() => undefined);
      await channel.deleteExchange(`${name}-bare`).catch(() => undefined);
      await channel.deleteExchange(`${name}-direct`).catch(() => undefined);
      await connection.close();
    });
    const publisher = await openBrokerPublisher(`amqp://guest:guest@127.0.0.1:5672?exchange=${name}&queue=${name}`);
    await publisher.publish(message(1), { attempt: 1, signal });
    await publisher.close();
    const got = await channel.get(name, { noAck: true });
    expect(got).not.toBe(false);
    if (got === false) return;
    expect(got.properties.messageId).toBe(message(1).id);
    expect(got.properties.deliveryMode).toBe(2);
    expect(JSON.parse(got.content.toString()).seq).toBe(1);
    const bare = await openBrokerPublisher(`amqp://guest:guest@127.0.0.1:5672?exchange=${name}-bare&queue=`);
    const unroutable = await failure(bare.publish(message(2), { attempt: 1, signal }));
    expect(unroutable.code).toBe('rejected');
    await bare.close();
    await channel.assertExchange(`${name}-direct`, 'direct', { durable: false });
    const refused = await failure(
      openBrokerPublisher(`amqp://guest:guest@127.0.0.1:5672?exchange=${name}-direct&queue=`),
    );
    expect(refused.code, 'an exchange of another type is a refusal, not an outage').toBe('rejected');
  });

  it('Redis Streams: XADD with the outbox id, a copy dropped within the window', async () => {
    const stream = `ue-test:${tag}`;
    const client = createClient({ url: 'redis://127.0.0.1:6379' });
    await client.connect();
    cleanups.push(async () => {
      await client.del([stream, `{${stream}}:seen:${message(1).id}`, `{${stream}}:seen:${message(2).id}`]);
      await client.close();
    });
    const publisher = await openBrokerPublisher(`redis://127.0.0.1:6379?stream=${encodeURIComponent(stream)}`);
    await publisher.publish(message(1), { attempt: 1, signal });
    await publisher.publish(message(1), { attempt: 2, signal });
    await publisher.publish(message(2), { attempt: 1, signal });
    await publisher.close();
    const entries = (await client.xRange(stream, '-', '+')) ?? [];
    expect(entries.map((e) => e.message.id)).toEqual([message(1).id, message(2).id]);
    expect(entries[0]?.message.topic).toBe('user.registered');
    expect(await client.pTTL(`{${stream}}:seen:${message(1).id}`)).toBeGreaterThan(500_000);
  });

  it('an unreachable broker is `unreachable`, a bad URL `invalid_url`, and neither message quotes a password', async () => {
    for (const url of [
      'nats://user:hunter2@127.0.0.1:1',
      'amqp://guest:hunter2@127.0.0.1:1',
      'redis://:hunter2@127.0.0.1:1',
    ]) {
      const error = await failure(openBrokerPublisher(url));
      expect(error.code, url).toBe('unreachable');
      expect(error.message).not.toContain('hunter2');
    }
    const bad = await failure(openBrokerPublisher('kafka://user:hunter2@host'));
    expect(bad.code).toBe('invalid_url');
    expect(bad.message).not.toContain('hunter2');
  });
});

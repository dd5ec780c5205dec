import { describe, expect, it } from 'vitest';
import { UserEngineAdapter } from '../src/authjs/index.js';
import {
  InMemoryUserEngineStore,
  type OutboxMessage,
  parseUserEvent,
  USER_EVENT_TOPICS,
  UserEngine,
  ValidationError,
} from '../src/index.js';

/** Runs every command once and returns the outbox it leaves. */
async function everyEvent(): Promise<OutboxMessage[]> {
  const store = new InMemoryUserEngineStore();
  await store.migrate();
  const engine = new UserEngine({ store });
  const ctx = { actor: 'test' };
  const { id } = await engine.registerUser(ctx, { email: 'ada@example.com', handle: 'ada', displayName: 'Ada' });
  await engine.updateProfile(ctx, id, { locale: 'en-GB' });
  await engine.changeEmail(ctx, id, 'ada@example.org');
  await engine.verifyEmail(ctx, id);
  await engine.unverifyEmail(ctx, id);
  await engine.changeHandle(ctx, id, 'ada2');
  await engine.linkIdentity(ctx, id, { provider: 'github', subject: '42' });
  await engine.unlinkIdentity(ctx, id, { provider: 'github', subject: '42' });
  await engine.grantRole(ctx, id, 'admin');
  await engine.revokeRole(ctx, id, 'admin');
  await engine.suspendUser(ctx, id, { reason: 'review' });
  await engine.reactivateUser(ctx, id);
  await engine.eraseUser(ctx, id);
  return store.pendingOutbox();
}

describe('the event catalogue', () => {
  it('every command writes an event that parses, with the topic the catalogue names, in catalogue order', async () => {
    const messages = await everyEvent();
    const events = messages.map(parseUserEvent).flatMap((e) => ('version' in e ? [e] : []));
    expect(events).toHaveLength(messages.length);
    expect(events.map((e) => e.topic)).toEqual(USER_EVENT_TOPICS.filter((t) => !t.startsWith('user.signed_')));
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ topic: 'user.erased', status: 'erased', schemaVersion: 1 });
    expect(events[0]?.fields).toEqual(['email', 'handle', 'displayName']);
    // The parse keeps what identifies the message for a consumer's de-duplication.
    expect(events.map((e) => e.id)).toEqual(messages.map((m) => m.id));
    expect(events.map((e) => e.seq)).toEqual(messages.map((m) => m.seq));
  });

  it('reads the Auth.js adapter’s sign-in and sign-out events, which name the session by its hash', async () => {
    const store = new InMemoryUserEngineStore();
    await store.migrate();
    const engine = new UserEngine({ store });
    const adapter = UserEngineAdapter(engine);
    const { id } = await engine.registerUser({ actor: 'test' }, { email: 'ada@example.com' });
    const sessionToken = 'secret-session-token';
    await adapter.createSession?.({ sessionToken, userId: id, expires: new Date(Date.now() + 60_000) });
    await adapter.deleteSession?.(sessionToken);
    const events = (await store.pendingOutbox()).map(parseUserEvent).filter((e) => e.topic.startsWith('user.signed_'));
    expect(events.map((e) => e.topic)).toEqual(['user.signed_in', 'user.signed_out']);
    for (const event of events) {
      if (!('session' in event)) throw new Error('not a session event');
      expect(event.session).toMatch(/^[0-9a-f]{64}$/);
      expect(event.userId).toBe(id);
      expect(JSON.stringify(event)).not.toContain(sessionToken);
    }
  });

  it('reads a message that went through JSON on a broker', async () => {
    const [message] = await everyEvent();
    const wire = JSON.parse(JSON.stringify(message)) as OutboxMessage;
    expect(parseUserEvent(wire)).toEqual(parseUserEvent(message as OutboxMessage));
  });

  it('refuses what it does not know, naming the field, never quoting the value', async () => {
    const [message] = await everyEvent();
    if (message === undefined) throw new Error('no message');
    const cases: [string, unknown][] = [
      ['topic', { ...message, topic: 'user.registred' }],
      ['payload.schemaVersion', { ...message, payload: { ...message.payload, schemaVersion: 2 } }],
      ['payload.userId', { ...message, key: 'someone-else' }],
      ['payload.version', { ...message, payload: { ...message.payload, version: '1' } }],
      ['payload.status', { ...message, payload: { ...message.payload, status: 'zombie' } }],
      ['payload.fields', { ...message, payload: { ...message.payload, fields: ['password'] } }],
      ['payload', { ...message, payload: null }],
      ['message', null],
    ];
    for (const [field, input] of cases) {
      let error: unknown;
      try {
        parseUserEvent(input as OutboxMessage);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field, field).toBe(field);
      expect((error as Error).message).not.toMatch(/registred|zombie|password|someone-else/);
    }
  });
});

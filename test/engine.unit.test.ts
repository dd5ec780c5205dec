// Engine behaviour that is not about a store: injection, bounded retries, ids.
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/engine/ids.js';
import {
  InMemoryUserEngineStore,
  UserEngine,
  UserEngineError,
  type UserEngineStore,
  VersionConflictError,
} from '../src/index.js';

async function memoryStore(): Promise<InMemoryUserEngineStore> {
  const store = new InMemoryUserEngineStore();
  await store.migrate();
  return store;
}

describe('engine', () => {
  it('uses the injected clock for user timestamps and the injected newId for ids', async () => {
    const engine = new UserEngine({
      store: await memoryStore(),
      clock: () => new Date('2030-01-02T03:04:05.006Z'),
      newId: () => 'fixed-id-1',
    });
    const user = await engine.registerUser({ actor: 't' }, { email: 'clock@example.com' });
    expect(user).toMatchObject({
      id: 'fixed-id-1',
      createdAt: '2030-01-02T03:04:05.006Z',
      updatedAt: '2030-01-02T03:04:05.006Z',
    });
  });

  it('generates RFC 9562 UUIDv7 ids whose first 48 bits are the time', () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7())).size).toBe(1000);
  });

  it('retries conflicts caused by concurrent writers and reports each retry', async () => {
    let retries = 0;
    const engine = new UserEngine({ store: await memoryStore(), onRetry: () => (retries += 1) });
    const user = await engine.registerUser({ actor: 't' }, { email: 'retry@example.com' });
    await Promise.all(['a', 'b', 'c', 'd'].map((r) => engine.grantRole({ actor: 't' }, user.id, r)));
    expect((await engine.getUser(user.id))?.roles).toEqual(['a', 'b', 'c', 'd']);
    expect(retries).toBeGreaterThan(0);
  });

  it('retries a bounded number of times, then fails with version_conflict, never without bound', async () => {
    const inner = await memoryStore();
    let commits = 0;
    // A store whose every commit meets a concurrent writer (on the user record, so it is not "taken").
    const hostile: UserEngineStore = Object.assign(Object.create(inner) as UserEngineStore, {
      transaction: async (): Promise<never> => {
        commits += 1;
        throw new VersionConflictError('user:always', 'someone else got there first');
      },
    });
    const engine = new UserEngine({ store: hostile, retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await engine.registerUser({ actor: 't' }, { email: 'bound@example.com' }).catch((e: unknown) => e);
    expect(UserEngineError.is(error, 'version_conflict')).toBe(true);
    expect(commits).toBe(5);
  });

  it('refuses a retry policy of fewer than 5 attempts', async () => {
    const store = await memoryStore();
    expect(() => new UserEngine({ store, retry: { attempts: 2 } })).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
    expect(() => new UserEngine({ store, retry: { attempts: 1000 } })).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
  });
});

// No personal value in an error, on the paths the shared engine scenario cannot
// reach: retries exhausted, a store that is not ready, and driver errors whose
// own text quotes row values.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InMemoryUserEngineStore, UserEngine, UserEngineError, type UserEngineStore } from '../src/index.js';
import { mapPostgresError } from '../src/postgres/error-mapper.js';
import { conflictOnKey } from '../src/store/errors.js';

const EMAIL = 'Private.Person@Example.org';
const VALUES = [EMAIL, 'private.person@example.org', 'Private Person', 'secret-subject-42'];

function expectNoPersonalValue(error: unknown): void {
  expect(UserEngineError.is(error)).toBe(true);
  const text = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`.toLowerCase();
  for (const value of VALUES) expect(text).not.toContain(value.toLowerCase());
}

describe('errors carry no personal value', () => {
  it('retries exhausted on a claimed address: the final conflict and its cause name kinds and ids only', async () => {
    const inner = new InMemoryUserEngineStore();
    await inner.migrate();
    const user = await new UserEngine({ store: inner }).registerUser({ actor: 't' }, { email: 'x@example.org' });
    const retries: unknown[] = [];
    // Every commit meets a concurrent writer on a record whose id is an address.
    const hostile: UserEngineStore = Object.assign(Object.create(inner) as UserEngineStore, {
      transaction: async (): Promise<never> => {
        throw conflictOnKey(`user-email:${EMAIL.toLowerCase()}`);
      },
    });
    const engine = new UserEngine({
      store: hostile,
      retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: (info) => retries.push(info),
    });
    const error = await engine.changeEmail({ actor: 't' }, user.id, EMAIL).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'version_conflict', kind: 'user-email' });
    expect((error as Error).message).toContain(user.id);
    expectNoPersonalValue(error);
    expect(retries).toEqual([1, 2, 3, 4].map((attempt) => ({ attempt, kind: 'user-email', userId: user.id })));
  });

  it('a store that is not ready: schema_not_ready without the input', async () => {
    const engine = new UserEngine({ store: new InMemoryUserEngineStore() });
    const error = await engine
      .registerUser({ actor: 't' }, { email: EMAIL, displayName: 'Private Person' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'schema_not_ready' });
    expectNoPersonalValue(error);
  });

  it('driver errors that quote row values reach the caller with the SQLSTATE only', () => {
    const unique = Object.assign(new Error('duplicate key value violates unique constraint "records_pkey"'), {
      code: '23505',
      detail: `Key (kind, id)=(user-email, ${EMAIL.toLowerCase()}) already exists.`,
    });
    const check = Object.assign(new Error(`new row for relation "records" violates check constraint`), {
      code: '23514',
      detail: `Failing row contains (user, 1, ${EMAIL}, Private Person).`,
    });
    const syntax = Object.assign(new Error(`invalid input syntax for type uuid: "${EMAIL}"`), { code: '22P02' });
    for (const driverError of [unique, check, syntax]) {
      const mapped = mapPostgresError(driverError, 'commit');
      expectNoPersonalValue(mapped);
      expect((mapped.cause as { code?: string }).code).toBe(driverError.code);
    }
    // A connection error keeps the driver's own error as its cause: it quotes no row.
    const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
    expect(mapPostgresError(lost, 'commit').cause).toBe(lost);
  });
});

// Type-level proofs, run by `vitest --typecheck` (and `npm run typecheck`): if a
// store stops fitting the contract, or a driver stops fitting the connection
// shape, the test run fails here.
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { Sql } from 'postgres';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  AnyUserEvent,
  InMemoryUserEngineStore,
  UserEngineStore,
  UserEvent,
  UserEventTopic,
  UserField,
} from '../src/index.js';
import type { PostgresConnection, PostgresJsSql, PostgresUserEngineStore } from '../src/postgres/index.js';
import type { FakePostgresConnection } from '../src/testing/index.js';

describe('contracts (compile-time)', () => {
  it('both stores are assignable to UserEngineStore', () => {
    expectTypeOf<InMemoryUserEngineStore>().toExtend<UserEngineStore>();
    expectTypeOf<PostgresUserEngineStore>().toExtend<UserEngineStore>();
  });

  it('node-postgres Pool and Client, PGlite and the fake fit PostgresConnection as they are', () => {
    expectTypeOf<pg.Pool>().toExtend<PostgresConnection>();
    expectTypeOf<pg.Client>().toExtend<PostgresConnection>();
    expectTypeOf<pg.PoolClient>().toExtend<PostgresConnection>();
    expectTypeOf<PGlite>().toExtend<PostgresConnection>();
    expectTypeOf<FakePostgresConnection>().toExtend<PostgresConnection>();
  });

  it('a postgres.js sql instance fits fromPostgresJs', () => {
    expectTypeOf<Sql>().toExtend<PostgresJsSql>();
  });
});

describe('typed events (compile-time)', () => {
  it('a topic is one of the catalogue: a typo does not compile', () => {
    expectTypeOf<'user.registered'>().toExtend<UserEventTopic>();
    expectTypeOf<'user.registred'>().not.toExtend<UserEventTopic>();
  });

  it('narrowing on topic narrows the event', () => {
    const event = {} as AnyUserEvent;
    if (event.topic === 'user.erased') {
      expectTypeOf(event).toEqualTypeOf<UserEvent<'user.erased'>>();
      expectTypeOf(event.fields).toEqualTypeOf<UserField[]>();
    }
    if (event.topic === 'user.signed_in') expectTypeOf(event.session).toEqualTypeOf<string>();
  });
});

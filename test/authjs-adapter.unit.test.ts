// The Auth.js adapter cases on every store that needs no server: memory, the
// fake Postgres connection and PGlite; and what only the fake can show —
// statements on the wire.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { UserEngineAdapter } from '../src/authjs/index.js';
import { InMemoryDatabase, InMemoryUserEngineStore, UserEngine } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { FakePostgresConnection, runAuthjsAdapterCases, type StoreFactory } from '../src/testing/index.js';
import { postgresFactory } from './support/postgres-factory.js';

const runner = { describe, it, skip: it.skip };

const memory: StoreFactory = async () => ({ store: new InMemoryUserEngineStore({ database: new InMemoryDatabase() }) });
const fake: StoreFactory = async () => ({
  store: new PostgresUserEngineStore({ connection: new FakePostgresConnection() }),
});
const db = new PGlite();
afterAll(async () => db.close());
const pglite = postgresFactory(
  'authjs',
  db,
  (connection, schema) => new PostgresUserEngineStore({ connection, schema }),
);

runAuthjsAdapterCases(runner, 'memory', memory);
runAuthjsAdapterCases(runner, 'fake-postgres', fake);
runAuthjsAdapterCases(runner, 'pglite', pglite);

describe('authjs adapter on the fake connection: statements on the wire', () => {
  async function setup() {
    const connection = new FakePostgresConnection();
    const store = new PostgresUserEngineStore({ connection });
    await store.migrate();
    await store.recordCounts(); // the first data call checks readiness once
    const engine = new UserEngine({ store });
    return { connection, adapter: UserEngineAdapter(engine) };
  }

  it('getSessionAndUser is one statement carrying only the token hash; updateSession a read and a write', async () => {
    const { connection, adapter } = await setup();
    const user = await adapter.createUser({ id: 'x', email: 'wire@example.com', emailVerified: null, name: 'Wire' });
    const sessionToken = 'session-token-on-the-wire';
    await adapter.createSession({ sessionToken, userId: user.id, expires: new Date(Date.now() + 60_000) });
    connection.clearStatements();
    expect((await adapter.getSessionAndUser(sessionToken))?.user.id).toBe(user.id);
    expect(connection.statements).toHaveLength(1);
    expect(connection.statements[0]?.text).toContain('JOIN');
    expect(JSON.stringify(connection.statements)).not.toContain(sessionToken);
    connection.clearStatements();
    await adapter.createSession({ sessionToken: 'second', userId: user.id, expires: new Date(Date.now() + 60_000) });
    expect(connection.statements, 'the user, the session list, the commit').toHaveLength(3);
    connection.clearStatements();
    await adapter.updateSession({ sessionToken, expires: new Date(Date.now() + 120_000) });
    expect(connection.statements).toHaveLength(2);
    expect(JSON.stringify(connection.statements)).not.toContain(sessionToken);
  });

  it('createUser is one statement; linkAccount a read of the user, the account check and one commit', async () => {
    const { connection, adapter } = await setup();
    connection.clearStatements();
    const user = await adapter.createUser({ id: 'x', email: 'one@example.com', emailVerified: null });
    expect(connection.statements).toHaveLength(1);
    connection.clearStatements();
    await adapter.linkAccount({ userId: user.id, type: 'oauth', provider: 'github', providerAccountId: '1' });
    // The engine remembers the user it just registered: no read of it, one read of the account slot, one commit.
    expect(connection.statements).toHaveLength(2);
  });
});

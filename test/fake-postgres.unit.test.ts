import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, UserEngine, UserEngineError } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import {
  dumpStore,
  FakePostgresConnection,
  runEngineScenarios,
  runStoreConformance,
  type StoreFactory,
} from '../src/testing/index.js';

const runner = { describe, it, skip: it.skip };

const fakeStore: StoreFactory = async () => {
  const connection = new FakePostgresConnection();
  return {
    store: new PostgresUserEngineStore({ connection }),
    openOlder: (schemaVersions) => new PostgresUserEngineStore({ connection, schemaVersions }),
    writeAppliedSchemaVersion: async (row) => connection.writeAppliedSchemaVersion(row),
  };
};

runStoreConformance(runner, 'fake-postgres', fakeStore, {
  capabilities: ['schemaBackdoor', 'indexedRecord', 'indexedPair', 'olderCode', 'delivery'],
});
runEngineScenarios(runner, 'fake-postgres', fakeStore);

async function migratedEngine() {
  const connection = new FakePostgresConnection();
  const store = new PostgresUserEngineStore({ connection });
  await store.migrate();
  await store.recordCounts(); // the first data call checks readiness once
  return { connection, store, engine: new UserEngine({ store }) };
}

describe('postgres store on the fake connection: statements on the wire', () => {
  it('a write-only commit is one generated statement whose bind parameters carry the whole batch', async () => {
    const { connection, store } = await migratedEngine();
    connection.clearStatements();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) tx.put({ kind: 'note', id: `n${i}`, data: { i }, expectedVersion: 0 });
      tx.appendAudit({ actor: 'a', action: 'note.bulk', recordKey: null, detail: {} });
      tx.enqueueOutbox({ topic: 'note.bulk', key: 'k', payload: { secret: "'; DROP TABLE x" } });
    });
    expect(connection.statements).toHaveLength(1);
    const [commit] = connection.statements;
    expect(commit?.text.split('\n')[0]).toBe('/* user-engine commit: writes=iiiii audit=1 outbox=1 */');
    expect(commit?.params).toHaveLength(5 * 4 + 5 + 4);
    expect(commit?.text).not.toContain('DROP');
  });

  it('a commit that re-checks a record it only read, or a large one, is one apply_commit call', async () => {
    const { connection, store } = await migratedEngine();
    await store.transaction(async (tx) => tx.put({ kind: 'note', id: 'seen', data: {}, expectedVersion: 0 }));
    connection.clearStatements();
    await store.transaction(async (tx) => {
      await tx.get('note', 'seen');
      tx.put({ kind: 'note', id: 'other', data: {}, expectedVersion: 0 });
    });
    expect(connection.statements.map((s) => s.text.includes('apply_commit('))).toEqual([false, true]);
    connection.clearStatements();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 20; i++) tx.put({ kind: 'note', id: `big${i}`, data: {}, expectedVersion: 0 });
    });
    expect(connection.statements).toHaveLength(1);
    expect(connection.statements[0]?.text).toContain('apply_commit(');
    expect(connection.statements[0]?.params).toHaveLength(19);
  });

  it('registerUser costs one statement; a command on a user the engine read or wrote one; on another, two; reads one', async () => {
    const { connection, engine, store } = await migratedEngine();
    connection.clearStatements();
    const user = await engine.registerUser({ actor: 't' }, { email: 'count@example.com', handle: 'count' });
    expect(connection.statements).toHaveLength(1);
    expect(connection.statements[0]?.text).toMatch(/^\/\* user-engine commit: writes=iii audit=1 outbox=1 \*\//);
    connection.clearStatements();
    await engine.updateProfile({ actor: 't' }, user.id, { displayName: 'Counted' });
    expect(connection.statements).toHaveLength(1);
    // Another engine (another process) has not seen the user: it reads first.
    const other = new UserEngine({ store });
    connection.clearStatements();
    await other.updateProfile({ actor: 't' }, user.id, { displayName: 'Counted again' });
    expect(connection.statements).toHaveLength(2);
    // The first engine's copy is now stale: its guess meets a conflict, then it reads and writes.
    connection.clearStatements();
    await engine.grantRole({ actor: 't' }, user.id, 'editor');
    expect(connection.statements).toHaveLength(3);
    expect((await engine.getUser(user.id))?.displayName).toBe('Counted again');
    connection.clearStatements();
    await engine.getUser(user.id);
    expect(connection.statements).toHaveLength(1);
    connection.clearStatements();
    expect((await engine.findUserByEmail('COUNT@example.com'))?.id).toBe(user.id);
    expect(connection.statements).toHaveLength(1);
    const noMemory = new UserEngine({ store, recentUsers: 0 });
    connection.clearStatements();
    await noMemory.updateProfile({ actor: 't' }, user.id, { locale: 'en' });
    expect(connection.statements).toHaveLength(2);
    for (const s of connection.statements) expect(s.text).not.toContain('count@example.com');
  });

  it('every value travels as a bind parameter: no statement text contains caller data', async () => {
    const { connection, engine, store } = await migratedEngine();
    const marker = 'zz\'marker"--';
    const u = await engine.registerUser({ actor: marker }, { email: 'marker@example.com', displayName: marker });
    await engine.updateProfile({ actor: marker }, u.id, { attributes: { [marker]: marker } });
    await store.listRecords('user', { after: marker });
    await store.readAudit({ recordKey: `user:${marker}` });
    for (const s of connection.statements) expect(s.text).not.toContain('marker');
  });

  it('an unknown statement is an error: the fake answers only what the store sends', async () => {
    const connection = new FakePostgresConnection();
    await expect(connection.query('SELECT 1')).rejects.toMatchObject({ code: '42601' });
  });
});

describe('postgres store on the fake connection: failure injection', () => {
  it('a commit that fails on the wire applies nothing and surfaces as store_unavailable with the cause', async () => {
    const { connection, store, engine } = await migratedEngine();
    await engine.registerUser({ actor: 't' }, { email: 'keep@example.com' });
    const before = await dumpStore(store);
    connection.failStatement(1);
    const error = await engine.registerUser({ actor: 't' }, { email: 'lost@example.com' }).catch((e: unknown) => e);
    expect(UserEngineError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: '08006' });
    expect(await dumpStore(store)).toBe(before);
    await engine.registerUser({ actor: 't' }, { email: 'lost@example.com' });
  });

  it('a dropped connection fails every call as store_unavailable until it is back', async () => {
    const { connection, store } = await migratedEngine();
    connection.dropConnection();
    await expect(store.getRecord('note', 'x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(
      store.transaction(async (tx) => tx.put({ kind: 'note', id: 'x', data: {}, expectedVersion: 0 })),
    ).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    connection.reconnect();
    expect(await store.getRecord('note', 'x')).toBeNull();
  });

  it('failing each statement of a command in turn leaves the store as before or as after, never between', async () => {
    const { connection, store, engine } = await migratedEngine();
    const user = await engine.registerUser({ actor: 't' }, { email: 'k@example.com', handle: 'khandle' });
    let outcomes = 0;
    for (let k = 1; k <= 3; k++) {
      const before = await dumpStore(store);
      connection.clearStatements();
      connection.failStatement(k);
      const result = await engine.changeEmail({ actor: 't' }, user.id, `k${k}@example.com`).then(
        () => 'ok',
        (e: unknown) => e,
      );
      connection.clearFailures();
      const after = await dumpStore(store);
      if (result === 'ok') {
        expect(after).not.toBe(before);
      } else {
        expect(UserEngineError.is(result, 'store_unavailable')).toBe(true);
        expect(after).toBe(before);
        outcomes += 1;
      }
    }
    // The read and the commit fail in turn; with k = 3 no statement of the command fails.
    expect(outcomes).toBe(2);
  });

  it('a connection dropped in the middle of migrate() leaves a schema the next migrate() completes', async () => {
    const connection = new FakePostgresConnection();
    const store = new PostgresUserEngineStore({ connection });
    connection.failStatement(3); // read versions, version 1 script, then version 2 script fails
    await expect(store.migrate()).rejects.toMatchObject({ code: 'store_unavailable' });
    const half = await store.readiness();
    const rest = SCHEMA_VERSIONS.slice(1).map((v) => v.version);
    expect(half).toMatchObject({ ready: false, currentVersion: 1, pending: rest });
    await expect(store.migrate()).resolves.toEqual({ applied: rest, currentVersion: LATEST_SCHEMA_VERSION });
    expect((await store.readiness()).ready).toBe(true);
  });
});

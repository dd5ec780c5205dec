// A short soak in every `npm test`: 16 workers, a random mix of every command
// over a few users and contested values (some users with many identities, so
// erasing them is a large commit), on the in-memory store and on PGlite with
// half the workers on a peer forced onto apply_commit; then every invariant is
// checked from the store alone.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { runSoak } from '../soak/soak.js';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { CountingConnection } from '../src/testing/index.js';

describe('soak (short)', () => {
  const lite = new PGlite();
  afterAll(async () => lite.close());

  it('memory: every invariant holds after a burst of contended commands from two stores', async () => {
    const database = new InMemoryDatabase();
    const store = new InMemoryUserEngineStore({ database });
    await store.migrate();
    const peer = new InMemoryUserEngineStore({ database });
    const report = await runSoak({ store, peer, workers: 16, durationMs: 1500, maxOperations: 20_000 });
    expect(report.unexpected).toEqual([]);
    expect(report.invariants.failures).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(100);
    expect(report.invariants.audit).toBe(report.acknowledged);
  });

  it('pglite: every invariant holds, and each commit path carried at least a quarter of the commits', async () => {
    const connection = new CountingConnection(lite);
    const store = new PostgresUserEngineStore({ connection, schema: 'soak' });
    const peer = new PostgresUserEngineStore({ connection, schema: 'soak', commitPath: 'apply-commit' });
    await store.migrate();
    const report = await runSoak({
      store,
      peer,
      statements: () => ({ ...connection.byKind }),
      workers: 16,
      durationMs: 2500,
      maxOperations: 20_000,
    });
    expect(report.unexpected).toEqual([]);
    expect(report.invariants.failures).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(50);
    expect(report.invariants.audit).toBe(report.acknowledged);
    // Both paths carry a real share: one engine's workers must not starve the other's.
    const { writeBatch = 0, applyCommit = 0 } = report.commits ?? {};
    expect(Math.min(writeBatch, applyCommit), `${writeBatch} write-batch, ${applyCommit} apply_commit`).toBeGreaterThan(
      (writeBatch + applyCommit) / 4,
    );
  });
});

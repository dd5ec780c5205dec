// A short soak in every `npm test`: 16 workers, a random mix of every command
// over a few users and contested values, on the in-memory store and PGlite;
// then every invariant is checked from the store alone.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { runSoak } from '../soak/soak.js';
import { InMemoryUserEngineStore } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';

describe('soak (short)', () => {
  const lite = new PGlite();
  afterAll(async () => lite.close());

  it('memory: every invariant holds after a burst of contended commands', async () => {
    const store = new InMemoryUserEngineStore();
    await store.migrate();
    const report = await runSoak({ store, workers: 16, durationMs: 1500, maxOperations: 20_000 });
    expect(report.unexpected).toEqual([]);
    expect(report.invariants.failures).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(100);
    expect(report.invariants.audit).toBe(report.acknowledged);
  });

  it('pglite: every invariant holds after a burst of contended commands', async () => {
    const store = new PostgresUserEngineStore({ connection: lite, schema: 'soak' });
    await store.migrate();
    const report = await runSoak({ store, workers: 16, durationMs: 2500, maxOperations: 20_000 });
    expect(report.unexpected).toEqual([]);
    expect(report.invariants.failures).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(50);
    expect(report.invariants.audit).toBe(report.acknowledged);
  }, 30_000);
});

// A short soak on the live server through a pg Pool while another connection
// terminates the pool's backends at random moments, half the workers on a
// peer forced onto apply_commit: every invariant must hold, and every
// failure the callers saw must be a typed error.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { backendKiller } from '../soak/faults.js';
import { runSoak } from '../soak/soak.js';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { CountingConnection } from '../src/testing/index.js';
import { freshSchemaName } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const liveDescribe = url ? describe : describe.skip;

liveDescribe('soak on the live server, with backends terminated at random', () => {
  it('every invariant holds and every failure is typed', async () => {
    const applicationName = `user-engine-soak-test-${process.pid}`;
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    const pool = new pg.Pool({ connectionString: url, max: 16, application_name: applicationName });
    pool.on('error', () => {});
    const schema = freshSchemaName('soak');
    try {
      const connection = new CountingConnection(fromNodePostgres(pool));
      const store = new PostgresUserEngineStore({ connection, schema });
      const peer = new PostgresUserEngineStore({ connection, schema, commitPath: 'apply-commit' });
      await store.migrate();
      const report = await runSoak({
        store,
        peer,
        statements: () => ({ ...connection.byKind }),
        workers: 16,
        durationMs: 4000,
        maxOperations: 50_000,
        faults: backendKiller(admin, applicationName),
      });
      expect(report.unexpected).toEqual([]);
      expect(report.invariants.failures).toEqual([]);
      expect(report.faultsInjected).toBeGreaterThan(0);
      expect(report.acknowledged).toBeGreaterThan(50);
      expect(report.commits?.writeBatch).toBeGreaterThan(0);
      expect(report.commits?.applyCommit).toBeGreaterThan(0);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([pool.end(), admin.end()]);
    }
  });
});

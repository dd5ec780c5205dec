// The README's node-postgres and postgres.js examples, run as written against the
// live server — in a scratch database this test creates and drops, so that the
// examples' own schema names (`accounts`, the default `user_engine`) never touch
// schemas someone else made. Each must end on its own, soon after its last
// statement: an example that leaves its pool open keeps Node alive for 10 s.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { scratchSchemaName } from '../src/testing/index.js';
import { harnessBlock, readmeBlock, root, runReadmeBlock, scratchProject } from './support/readme.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const liveDescribe = url ? describe : describe.skip;
const CLEAN_EXIT_MS = 3_000;

/** Runs `work` with the URL of a scratch database it creates and drops. */
async function withScratchDatabase(work: (databaseUrl: string) => void | Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const database = scratchSchemaName('readme');
  const scratch = new URL(url ?? '');
  scratch.pathname = `/${database}`;
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
    await work(scratch.href);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
}

liveDescribe('README examples (live server)', () => {
  it('the node-postgres and postgres.js examples run and end on their own', async () => {
    await withScratchDatabase((databaseUrl) => {
      const env = { DATABASE_URL: databaseUrl };
      const nodePostgres = runReadmeBlock(readmeBlock('pg'), { env });
      expect(nodePostgres.stdout).toMatch(/^registered [0-9a-f-]{36}$/m);
      expect(nodePostgres.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
      const postgresJs = runReadmeBlock(readmeBlock('postgres'), { env });
      expect(postgresJs.stdout).toContain('users: 0');
      expect(postgresJs.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
    });
  }, 120_000);

  it.skipIf(process.env.USER_ENGINE_TEST_BROKERS !== '1')(
    'the relay example publishes to NATS JetStream, and the event is on the stream',
    async () => {
      const stream = `README_${process.pid}_${Date.now().toString(36)}`.toUpperCase();
      const env = { NATS_URL: `nats://127.0.0.1:4222?stream=${stream}&subject_prefix=readme${process.pid}` };
      const { connect } = await import('nats');
      const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
      try {
        const run = runReadmeBlock(readmeBlock('user-engine/brokers'), { env });
        expect(run.stdout).toContain('publishing user.registered v1');
        expect(run.stdout).toContain('delivered 1');
        expect(run.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
        const info = await (await nc.jetstreamManager()).streams.info(stream);
        expect(info.state.messages).toBe(1);
      } finally {
        await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
        await nc.close();
      }
    },
    60_000,
  );

  it('the harness example runs every conformance case and engine scenario under Vitest, skipping none', async () => {
    await withScratchDatabase((databaseUrl) => {
      const dir = scratchProject({ 'harness.test.ts': harnessBlock() });
      const report = join(dir, 'report.json');
      const vitest = spawnSync(
        process.execPath,
        [
          join(root, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          '--root',
          dir,
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 240_000 },
      );
      expect(vitest.status, vitest.stderr).toBe(0);
      const counts = JSON.parse(readFileSync(report, 'utf8')) as Record<string, number>;
      expect(counts).toMatchObject({ numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 });
      expect(counts.numPassedTests).toBeGreaterThan(50);
    });
  }, 300_000);
});

// The README's node-postgres and postgres.js examples, run as written against the
// live server — in a scratch database this test creates and drops, so that the
// examples' own schema names (`accounts`, the default `user_engine`) never touch
// schemas someone else made.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { scratchSchemaName } from '../src/testing/index.js';
import { readmeBlocks, runReadmeBlock } from './support/readme.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const liveDescribe = url ? describe : describe.skip;

liveDescribe('README examples (live server)', () => {
  it('the node-postgres and postgres.js examples run', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const database = scratchSchemaName('readme');
    const scratch = new URL(url ?? '');
    scratch.pathname = `/${database}`;
    try {
      await admin.query(`CREATE DATABASE "${database}"`);
      expect(runReadmeBlock(readmeBlocks[1] ?? '', { DATABASE_URL: scratch.href })).toContain('example ran');
      expect(runReadmeBlock(readmeBlocks[3] ?? '', { DATABASE_URL: scratch.href })).toContain('example ran');
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);
});

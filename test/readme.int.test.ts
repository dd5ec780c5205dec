// The README's node-postgres and postgres.js examples, run as written against the live server.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, runReadmeBlock } from './support/readme.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const liveDescribe = url ? describe : describe.skip;

liveDescribe('README examples (live server)', () => {
  it('the node-postgres and postgres.js examples run', async () => {
    const admin = new pg.Pool({ connectionString: url });
    try {
      await admin.query('DROP SCHEMA IF EXISTS accounts CASCADE');
      expect(runReadmeBlock(readmeBlocks[1] ?? '', { DATABASE_URL: url ?? '' })).toContain('example ran');
      expect(runReadmeBlock(readmeBlocks[3] ?? '', { DATABASE_URL: url ?? '' })).toContain('example ran');
    } finally {
      // The postgres.js example uses the default schema; the test database is ours to tidy.
      await admin.query('DROP SCHEMA IF EXISTS accounts CASCADE');
      await admin.query('DROP SCHEMA IF EXISTS user_engine CASCADE');
      await admin.end();
    }
  }, 30_000);
});

// The built bin against a live server through DATABASE_URL: never migrated
// implicitly; status is a readiness probe before and after migrate.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../src/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import { cli, tempDir } from './support/cli.js';
import { freshSchemaName } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const live = url !== undefined && url !== '';
const ALL_VERSIONS = SCHEMA_VERSIONS.map((v) => v.version);
const liveDescribe = live ? describe : describe.skip;

liveDescribe('cli: a live server through DATABASE_URL', () => {
  const schema = freshSchemaName('cli');
  const cwd = tempDir('live');
  const env = { DATABASE_URL: url ?? '' };
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: url });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('status says what is pending and exits 1; data commands refuse; migrate applies; status exits 0', async () => {
    const before = await cli(['status', '--schema', schema], { cwd, env });
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`NOT READY (version 0, this code expects ${LATEST_SCHEMA_VERSION})`);
    expect(before.stdout).toContain(`pending versions: ${ALL_VERSIONS.join(', ')}`);

    const refused = await cli(['users', 'list', '--schema', schema], { cwd, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/schema_not_ready/);
    expect(refused.stderr).toMatch(/user-engine migrate/);

    const migrate = await cli(['migrate', '--schema', schema, '--json'], { cwd, env });
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.stdout)).toEqual({ applied: ALL_VERSIONS, currentVersion: LATEST_SCHEMA_VERSION });
    const again = await cli(['migrate', '--schema', schema], { cwd, env });
    expect(again.stdout).toContain('nothing to apply');

    const after = await cli(['status', '--schema', schema, '--json'], { cwd, env });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ready: true, currentVersion: LATEST_SCHEMA_VERSION, pending: [] });
  }, 60_000);

  it('runs the demo and the user commands on the server, with --database-url too', async () => {
    const demo = await cli(['demo', '--schema', schema], { cwd, env });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('PostgreSQL postgres://');
    const viaFlag = await cli(['counts', '--schema', schema, '--json', '--database-url', url ?? ''], { cwd });
    expect(JSON.parse(viaFlag.stdout)).toMatchObject({ audit: 11, outboxPending: 11 });
  }, 60_000);
});

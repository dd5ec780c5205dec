// The built bin against a live server through DATABASE_URL: never migrated
// implicitly; status is a readiness probe before and after migrate; and
// migrate --print-sql gives an operator's own migration tool the same
// schema, version rows included, that `user-engine migrate` would apply.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { UserEngine } from '../src/engine/engine.js';
import { LATEST_SCHEMA_VERSION } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import { cli, tempDir } from './support/cli.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const live = url !== undefined && url !== '';
const ALL_VERSIONS = SCHEMA_VERSIONS.map((v) => v.version);
const liveDescribe = live ? describe : describe.skip;

interface PrintedSql {
  currentVersion: number;
  versions: { version: number; name: string; checksum: string; kind: string; sql: string }[];
}

liveDescribe('cli: a live server through DATABASE_URL', () => {
  const pool = new pg.Pool({ connectionString: url });
  const schemas: string[] = [];
  const fresh = (prefix: string) => {
    const schema = scratchSchemaName(prefix);
    schemas.push(schema);
    return schema;
  };
  const cwd = tempDir('live');
  const env = { DATABASE_URL: url ?? '' };
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('status says what is pending and exits 1; data commands refuse (exit 3); migrate applies; status exits 0', async () => {
    const schema = fresh('cli');
    const before = await cli(['status', '--schema', schema], { cwd, env });
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`NOT READY (version 0, this code expects ${LATEST_SCHEMA_VERSION})`);
    expect(before.stdout).toContain(
      `pending versions: ${ALL_VERSIONS.join(', ')} (run: user-engine migrate --schema ${schema})`,
    );

    const refused = await cli(['users', 'list', '--schema', schema], { cwd, env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/run: user-engine migrate --schema \S+ \[schema_not_ready\]$/m);

    const migrate = await cli(['migrate', '--schema', schema, '--json'], { cwd, env });
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.stdout)).toEqual({ applied: ALL_VERSIONS, currentVersion: LATEST_SCHEMA_VERSION });
    const again = await cli(['migrate', '--schema', schema], { cwd, env });
    expect(again.stdout).toContain('nothing to apply');

    const after = await cli(['status', '--schema', schema, '--json'], { cwd, env });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ready: true, currentVersion: LATEST_SCHEMA_VERSION, pending: [] });
  }, 60_000);

  it('runs the demo and the user commands on the server, with --database-url too; the password is never shown', async () => {
    const schema = fresh('cli_demo');
    expect((await cli(['migrate', '--schema', schema], { cwd, env })).code).toBe(0);
    const demo = await cli(['demo', '--schema', schema], { cwd, env });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('PostgreSQL postgres://');
    const withPassword = new URL(url ?? '');
    withPassword.password = 'hunter2'; // trust authentication ignores it
    const viaFlag = await cli(['counts', '--schema', schema, '--json', '--database-url', withPassword.href], { cwd });
    expect(JSON.parse(viaFlag.stdout)).toMatchObject({ audit: 11, outboxPending: 11 });
    const status = await cli(['status', '--schema', schema, '--database-url', withPassword.href], { cwd });
    expect(status.stdout).toContain(':***@');
    expect(status.stdout).not.toContain('hunter2');
  }, 60_000);

  it.skipIf(!process.env.USER_ENGINE_TEST_PGBOUNCER_URL)(
    'behind PgBouncer in transaction mode: --no-prepare works; without it the error says to add it',
    async () => {
      const schema = fresh('cli_bouncer');
      const bouncer = { DATABASE_URL: process.env.USER_ENGINE_TEST_PGBOUNCER_URL ?? '' };
      const migrated = await cli(['migrate', '--schema', schema, '--no-prepare'], { cwd, env: bouncer });
      expect(migrated.code, migrated.stderr).toBe(0);
      const registered = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          cli(
            [
              'users',
              'register',
              '--email',
              `bouncer${i}@example.com`,
              '--schema',
              schema,
              '--no-prepare',
              '--timeout',
              '10000',
            ],
            {
              cwd,
              env: bouncer,
            },
          ),
        ),
      );
      for (const run of registered) expect(run.code, run.stderr).toBe(0);
      // Named statements, several processes at once through the pooler: a clear message, never a hang.
      const prepared = await Promise.all(
        Array.from({ length: 6 }, () =>
          cli(['users', 'list', '--schema', schema, '--timeout', '10000', '--json'], { cwd, env: bouncer }),
        ),
      );
      for (const run of prepared) {
        if (run.code !== 0) expect(run.stderr).toMatch(/prepare|--no-prepare/);
      }
    },
  );

  it('--no-prepare and --timeout are for a server store only', async () => {
    const run = await cli(['users', 'list', '--memory', '--no-prepare'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('server store');
    const bad = await cli(['users', 'list', '--timeout', 'soon'], { cwd, env });
    expect(bad.code).toBe(2);
  });

  it('migrate --print-sql prints the pending versions; applied by another tool, the schema is ready and works', async () => {
    const schema = fresh('cli_print');
    const printed = await cli(['migrate', '--print-sql', '--schema', schema, '--json'], { cwd, env });
    expect(printed.code).toBe(0);
    const listing = JSON.parse(printed.stdout) as PrintedSql;
    expect(listing.currentVersion).toBe(0);
    expect(listing.versions.map((v) => v.version)).toEqual(ALL_VERSIONS);
    expect(listing.versions.map((v) => v.checksum)).toEqual(SCHEMA_VERSIONS.map((v) => v.checksum));
    // Nothing was applied by printing.
    const untouched = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(untouched.rows).toEqual([]);

    // As Flyway would: one transaction per version, in order.
    for (const version of listing.versions) await pool.query(version.sql);
    const status = await cli(['status', '--schema', schema], { cwd, env });
    expect(status.code).toBe(0);
    expect((await cli(['migrate', '--schema', schema], { cwd, env })).stdout).toContain('nothing to apply');
    const registered = await cli(['users', 'register', '--email', 'flyway@example.com', '--schema', schema], {
      cwd,
      env,
    });
    expect(registered.code).toBe(0);
    const text = await cli(['migrate', '--print-sql', '--schema', schema], { cwd, env });
    expect(text.stdout.trim()).toBe(
      `-- user-engine schema "${schema}": nothing to apply (at version ${LATEST_SCHEMA_VERSION})`,
    );
  }, 60_000);

  it('the printed data step refuses, changing nothing, where there are records to re-key; user-engine migrate applies it', async () => {
    const schema = fresh('cli_rekey');
    const rekeyed = SCHEMA_VERSIONS.find((v) => v.rekey !== undefined);
    if (rekeyed === undefined) return;
    // Data written by code from before the data step.
    const older = new PostgresUserEngineStore({
      connection: pool,
      schema,
      schemaVersions: SCHEMA_VERSIONS.filter((v) => v.version < rekeyed.version),
    });
    await older.migrate();
    await new UserEngine({ store: older }).registerUser({ actor: 'old' }, { email: 'Old@Example.com' });

    const printed = await cli(['migrate', '--print-sql', '--schema', schema, '--json'], { cwd, env });
    const listing = JSON.parse(printed.stdout) as PrintedSql;
    expect(listing.currentVersion).toBe(rekeyed.version - 1);
    const step = listing.versions.find((v) => v.version === rekeyed.version);
    expect(step?.kind).toBe('guarded-data-step');
    await expect(pool.query(step?.sql ?? '')).rejects.toThrow(
      `user-engine schema version ${rekeyed.version} re-keys existing user-email records and must be applied with: user-engine migrate --schema ${schema}`,
    );
    const status = await cli(['status', '--schema', schema, '--json'], { cwd, env });
    expect(JSON.parse(status.stdout)).toMatchObject({ ready: false, currentVersion: rekeyed.version - 1 });

    expect((await cli(['migrate', '--schema', schema], { cwd, env })).code).toBe(0);
    const found = await cli(['users', 'find', '--email', 'OLD@example.com', '--schema', schema, '--json'], {
      cwd,
      env,
    });
    expect(JSON.parse(found.stdout)).toMatchObject({ email: 'Old@Example.com' });
  }, 60_000);
});

// The tool's error table for mistakes only a live server can show: a wrong
// database name, an unknown role, sslmode on a server without SSL, a schema
// that was never migrated. Each says what is wrong and what to do, in one
// line, with the exit code for "store unavailable" (3), never the password.
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../src/index.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import { cli, tempDir } from './support/cli.js';
import { expectJsonFailure, expectTextFailure, type Mistake } from './support/cli-errors.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const live = url !== undefined && url !== '';
const liveDescribe = live ? describe : describe.skip;
const NOT_MIGRATED = `store schema is at version 0, this code needs ${LATEST_SCHEMA_VERSION} (pending: ${SCHEMA_VERSIONS.map((v) => v.version).join(', ')})`;

/** The live URL with parts replaced (a database, a user, a password, query parameters). */
function variant(change: (u: URL) => void): string {
  const u = new URL(url ?? 'postgres://localhost/x');
  change(u);
  return u.href;
}

liveDescribe('cli error table: a live server', () => {
  const cwd = tempDir('errors-live');
  const target = new URL(url ?? 'postgres://localhost/x');
  const at = `${target.hostname}:${target.port || '5432'}`;
  const schema = scratchSchemaName('cli_errors'); // never created: every row fails before or instead
  const missingDatabase = scratchSchemaName('no_such_db');

  const rows: Mistake[] = [
    {
      mistake: 'a database that does not exist',
      args: [
        'status',
        '--schema',
        schema,
        '--database-url',
        variant((u) => {
          u.pathname = `/${missingDatabase}`;
          u.password = 'hunter2';
        }),
      ],
      exit: 3,
      code: 'database_not_found',
      message: `database "${missingDatabase}" does not exist on ${at}; create it (createdb ${missingDatabase}) or correct the database name in the URL`,
    },
    {
      mistake: 'a role that does not exist',
      args: [
        'users',
        'list',
        '--schema',
        schema,
        '--database-url',
        variant((u) => {
          u.username = 'no_such_role_for_user_engine';
          u.password = 'hunter2';
        }),
      ],
      exit: 3,
      code: 'authentication_failed',
      message: `the server at ${at} does not accept role "no_such_role_for_user_engine" (the role does not exist, or pg_hba.conf does not let it connect to database "${target.pathname.slice(1)}"); check the user name in the URL`,
    },
    {
      mistake: 'sslmode=require on a server without SSL',
      args: ['status', '--schema', schema, '--database-url', variant((u) => u.searchParams.set('sslmode', 'require'))],
      exit: 3,
      code: 'store_unavailable',
      message: `the server at ${at} does not accept SSL connections, but the URL asks for sslmode=require; remove sslmode or use sslmode=disable for this server`,
    },
    {
      mistake: 'a data command on a schema never migrated (DATABASE_URL)',
      args: ['users', 'list', '--schema', schema],
      env: { DATABASE_URL: url ?? '' },
      exit: 3,
      code: 'schema_not_ready',
      message: `${NOT_MIGRATED}; run: user-engine migrate --schema ${schema}`,
    },
    {
      mistake: 'a data command on a schema never migrated (--database-url)',
      args: ['counts', '--schema', schema, '--database-url', url ?? ''],
      exit: 3,
      code: 'schema_not_ready',
      message: `${NOT_MIGRATED}; run: user-engine migrate --database-url URL --schema ${schema}`,
    },
  ];

  for (const row of rows) {
    it(`${row.mistake}: exit ${row.exit} [${row.code}]`, async () => {
      const env = row.env ?? {};
      const text = await cli(row.args, { cwd, env });
      expectTextFailure(text, row);
      expect(text.stderr).not.toMatch(/SECURITY WARNING|DeprecationWarning/);
      expectJsonFailure(await cli([...row.args, '--json'], { cwd, env }), row);
    });
  }

  afterAll(async () => {
    // Nothing above may have created the schema; make sure, without touching anything else.
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url });
    const { rows: found } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    await pool.end();
    expect(found).toEqual([]);
  });
});

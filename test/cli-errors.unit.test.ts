// The tool's error table, asserted against the built bin with no server:
// each mistake a new user made, the one line the tool prints for it (and the
// JSON object with --json), and the exit code by kind — 1 refused, 2 usage,
// 3 store unavailable (docs/cli.md). No message repeats a personal value.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './support/cli.js';
import { expectJsonFailure, expectTextFailure, type Mistake } from './support/cli-errors.js';

const ID = '01900000-0000-7000-8000-000000000000';
const EMAIL = 'secret.person@example.com';
const HANDLE = 'secret_handle';
const MEMORY = '--memory';

const USAGE: Mistake[] = [
  {
    mistake: 'no command',
    args: [],
    exit: 2,
    code: 'usage',
    message: 'no command given; usage: user-engine <command> [options] (see user-engine --help)',
  },
  {
    mistake: 'a command that does not exist',
    args: ['frobnicate'],
    exit: 2,
    code: 'usage',
    message: 'unknown command "frobnicate" (see user-engine --help)',
  },
  {
    mistake: 'user for users',
    args: ['user', 'list'],
    exit: 2,
    code: 'usage',
    message: 'unknown command "user"; did you mean "users"? (see user-engine --help)',
  },
  {
    mistake: 'a misspelt users command',
    args: ['users', 'lst'],
    exit: 2,
    code: 'usage',
    message: 'unknown users command "lst"; did you mean "users list"? (see user-engine users --help)',
  },
  {
    mistake: 'users with no command',
    args: ['users'],
    exit: 2,
    code: 'usage',
    message: 'users needs a command (see user-engine users --help)',
  },
  {
    mistake: 'a misspelt option',
    args: ['users', 'list', '--lmit', '5'],
    exit: 2,
    code: 'usage',
    message: 'unknown option --lmit for users list; did you mean --limit? (see user-engine users list --help)',
  },
  {
    mistake: 'an option nothing takes',
    args: ['status', '--frob'],
    exit: 2,
    code: 'usage',
    message: 'unknown option --frob for status (see user-engine status --help)',
  },
  {
    mistake: "another command's option",
    args: ['users', 'get', ID, '--email', EMAIL],
    exit: 2,
    code: 'usage',
    message: 'users get does not take --email (see user-engine users get --help)',
  },
  {
    mistake: 'a negative limit',
    args: ['users', 'list', '--limit', '-5'],
    exit: 2,
    code: 'usage',
    message: '--limit must be a whole number from 1 to 1000',
  },
  {
    mistake: 'a zero limit',
    args: ['users', 'list', '--limit', '0'],
    exit: 2,
    code: 'usage',
    message: '--limit must be a whole number from 1 to 1000',
  },
  {
    mistake: 'a limit that is not a number',
    args: ['audit', '--limit', 'abc'],
    exit: 2,
    code: 'usage',
    message: '--limit must be a whole number from 1 to 1000',
  },
  {
    mistake: 'a limit above the maximum',
    args: ['outbox', '--limit', '1001'],
    exit: 2,
    code: 'usage',
    message: '--limit must be a whole number from 1 to 1000',
  },
  {
    mistake: 'a negative --after-seq',
    args: ['audit', '--after-seq', '-1'],
    exit: 2,
    code: 'usage',
    message: '--after-seq must be a whole number 0 or more',
  },
  {
    mistake: 'an --expected-version of 0',
    args: ['users', 'erase', ID, '--expected-version', '0'],
    exit: 2,
    code: 'usage',
    message: '--expected-version must be a whole number 1 or more',
  },
  {
    mistake: 'register without --email',
    args: ['users', 'register', '--handle', HANDLE],
    exit: 2,
    code: 'usage',
    message: '--email is required',
  },
  {
    mistake: 'an option without its value',
    args: ['users', 'register', '--email'],
    exit: 2,
    code: 'usage',
    message: '--email needs a value',
  },
  {
    mistake: 'an option followed by another option instead of its value',
    args: ['users', 'register', '--email', '--handle', HANDLE],
    exit: 2,
    code: 'usage',
    message: '--email needs a value',
  },
  {
    mistake: 'an option given twice',
    args: ['users', 'list', '--limit', '1', '--limit', '2'],
    exit: 2,
    code: 'usage',
    message: '--limit is given more than once',
  },
  {
    mistake: 'a value for a flag',
    args: ['counts', '--memory=yes'],
    exit: 2,
    code: 'usage',
    message: '--memory takes no value',
  },
  {
    mistake: 'get without an id',
    args: ['users', 'get'],
    exit: 2,
    code: 'usage',
    message: 'users get needs ID (see user-engine users get --help)',
  },
  {
    mistake: 'get with two arguments',
    args: ['users', 'get', ID, EMAIL],
    exit: 2,
    code: 'usage',
    message: 'users get takes ID, but was given 2 arguments (see user-engine users get --help)',
  },
  {
    mistake: 'grant-role without the role',
    args: ['users', 'grant-role', ID],
    exit: 2,
    code: 'usage',
    message: 'users grant-role needs ROLE (see user-engine users grant-role --help)',
  },
  {
    mistake: 'find with nothing to find by',
    args: ['users', 'find'],
    exit: 2,
    code: 'usage',
    message: 'users find needs exactly one of --email, --handle, --identity',
  },
  {
    mistake: 'find by two things',
    args: ['users', 'find', '--email', EMAIL, '--handle', HANDLE],
    exit: 2,
    code: 'usage',
    message: 'users find needs exactly one of --email, --handle, --identity',
  },
  {
    mistake: 'an identity without provider:',
    args: ['users', 'find', '--identity', 'secret-subject'],
    exit: 2,
    code: 'usage',
    message: '--identity must look like PROVIDER:SUBJECT',
  },
  {
    mistake: 'attributes that are not JSON',
    args: ['users', 'register', '--email', EMAIL, '--attributes', '{plan:pro'],
    exit: 2,
    code: 'usage',
    message: `--attributes must be JSON, e.g. '{"plan":"pro"}'`,
  },
  {
    mistake: 'attributes that are not an object',
    args: ['users', 'update', ID, '--attributes', '["Secret Person"]'],
    exit: 2,
    code: 'usage',
    message: `--attributes must be a JSON object, e.g. '{"plan":"pro"}'`,
  },
  {
    mistake: 'update with nothing to change',
    args: ['users', 'update', ID],
    exit: 2,
    code: 'usage',
    message:
      'users update needs at least one of --display-name, --clear-display-name, --locale, --clear-locale, --attributes',
  },
  {
    mistake: 'set and clear the display name at once',
    args: ['users', 'update', ID, '--display-name', 'Secret Person', '--clear-display-name'],
    exit: 2,
    code: 'usage',
    message: '--display-name needs at most one of --display-name, --clear-display-name',
  },
  {
    mistake: 'change-handle with neither a handle nor --clear-handle',
    args: ['users', 'change-handle', ID],
    exit: 2,
    code: 'usage',
    message: 'users change-handle needs exactly one of --handle, --clear-handle',
  },
  {
    mistake: 'two stores at once',
    args: ['counts', MEMORY, '--database-url', 'postgres://app:hunter2@127.0.0.1:1/app'],
    exit: 2,
    code: 'usage',
    message: '--memory and --database-url cannot be combined: choose one store',
  },
  {
    mistake: 'a database URL that is not a URL',
    args: ['status', '--database-url', 'not-a-url'],
    exit: 2,
    code: 'usage',
    message: '--database-url is not a URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE',
  },
  {
    mistake: 'a MySQL URL',
    args: ['status', '--database-url', 'mysql://app:hunter2@127.0.0.1/app'],
    exit: 2,
    code: 'usage',
    message: '--database-url must be a postgres:// or postgresql:// URL, not mysql://',
  },
  {
    mistake: 'a MySQL URL in DATABASE_URL',
    args: ['users', 'list'],
    env: { DATABASE_URL: 'mysql://app:hunter2@127.0.0.1/app' },
    exit: 2,
    code: 'usage',
    message: 'DATABASE_URL must be a postgres:// or postgresql:// URL, not mysql://',
  },
  {
    mistake: 'a schema name Postgres would need quoting for',
    args: ['status', '--schema', 'Accounts-2'],
    exit: 2,
    code: 'usage',
    message: '--schema must be a Postgres identifier: 1 to 63 of a-z, 0-9 and _, not starting with a digit or pg_',
  },
  {
    mistake: '--from without --print-sql',
    args: ['migrate', '--from', '2'],
    exit: 2,
    code: 'usage',
    message: '--from is only for --print-sql',
  },
];

USAGE.push(
  {
    mistake: 'a relay with no broker',
    args: ['relay', '--memory'],
    exit: 2,
    code: 'usage',
    message: '--to is required (a broker URL: nats://, amqp:// or redis://)',
  },
  {
    mistake: 'a relay to a URL that is no broker (with a password in it)',
    args: ['relay', '--memory', '--to', 'http://user:hunter2@example.com/hook'],
    exit: 2,
    code: 'usage',
    message: '--to must be a nats://, amqp:// or redis:// URL',
  },
  {
    mistake: 'a replay of something that is not a sequence number',
    args: ['delivery', 'replay', '12,abc', '--memory'],
    exit: 2,
    code: 'usage',
    message: 'SEQS must be sequence numbers and ranges, such as 12,15,20-24 (at most 10000)',
  },
  {
    mistake: 'a delivery list of a state that does not exist',
    args: ['delivery', 'list', '--state', 'lost', '--memory'],
    exit: 2,
    code: 'usage',
    message: '--state must be one of pending, claimed, delivered, dead',
  },
);

const REFUSED: Mistake[] = [
  {
    mistake: 'an email address without @',
    args: ['users', 'register', '--email', 'not-an-email', MEMORY],
    exit: 1,
    code: 'invalid_input',
    message: '--email: must contain exactly one @',
  },
  {
    mistake: 'a handle with characters handles cannot have',
    args: ['users', 'register', '--email', EMAIL, '--handle', 'secret handle!', MEMORY],
    exit: 1,
    code: 'invalid_input',
    message: '--handle: must be 3 to 32 of a-z, 0-9 and _',
  },
  {
    mistake: 'a locale that is not a language tag',
    args: ['users', 'register', '--email', EMAIL, '--locale', 'not a locale', MEMORY],
    exit: 1,
    code: 'invalid_input',
    message: /^--locale: /,
  },
  {
    mistake: 'a role name with a space',
    args: ['users', 'grant-role', ID, 'super user', MEMORY],
    exit: 1,
    code: 'invalid_input',
    message: /^ROLE: /,
  },
  {
    mistake: 'get an id no user has',
    args: ['users', 'get', ID, MEMORY],
    exit: 1,
    code: 'not_found',
    message: 'no user has that id',
  },
  {
    mistake: 'get with an email address instead of an id',
    args: ['users', 'get', EMAIL, MEMORY],
    exit: 1,
    code: 'not_found',
    message: 'no user has that id',
  },
  {
    mistake: 'find an address no user has',
    args: ['users', 'find', '--email', EMAIL, MEMORY],
    exit: 1,
    code: 'not_found',
    message: 'no user has that email address',
  },
  {
    mistake: 'find an identity no user has',
    args: ['users', 'find', '--identity', 'github:secret-subject', MEMORY],
    exit: 1,
    code: 'not_found',
    message: 'no user has that identity linked',
  },
  {
    mistake: 'suspend an id no user has',
    args: ['users', 'suspend', ID, '--reason', 'a reason that names someone', MEMORY],
    exit: 1,
    code: 'not_found',
    message: `no user with id ${ID}`,
  },
  {
    mistake: 'suspend with an email address instead of an id',
    args: ['users', 'suspend', EMAIL, '--reason', 'a reason that names someone', MEMORY],
    exit: 1,
    code: 'not_found',
    message: 'no user with id [withheld]',
  },
];

const UNAVAILABLE: Mistake[] = [
  {
    mistake: 'a server that is not running',
    args: ['status', '--database-url', 'postgres://app:hunter2@127.0.0.1:1/app'],
    exit: 3,
    code: 'store_unavailable',
    message:
      'nothing accepts connections at 127.0.0.1:1 (connection refused); is PostgreSQL running there, and is the port right?',
  },
  {
    mistake: 'a host name that does not resolve',
    args: ['users', 'list', '--database-url', 'postgres://app:hunter2@no-such-host.invalid/app'],
    exit: 3,
    code: 'store_unavailable',
    message: 'cannot resolve the host "no-such-host.invalid" from the URL; check the host name',
  },
  {
    mistake: 'a relay to a broker that is not running',
    args: ['relay', '--memory', '--to', 'amqp://guest:hunter2@127.0.0.1:1'],
    exit: 3,
    code: 'broker_unavailable',
    message: '--to: cannot connect to RabbitMQ at amqp://127.0.0.1:1',
  },
];

describe('cli error table: usage (exit 2), refused (exit 1), store unavailable (exit 3)', () => {
  const cwd = tempDir('errors');
  for (const row of [...USAGE, ...REFUSED, ...UNAVAILABLE]) {
    it(`${row.mistake}: exit ${row.exit} [${row.code}]`, async () => {
      const env = row.env ?? {};
      expectTextFailure(await cli(row.args, { cwd, env }), row);
      expectJsonFailure(await cli([...row.args, '--json'], { cwd, env }), row);
    });
  }

  it('none of those mistakes created anything in the working directory', () => {
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('cli error table: mistakes about the embedded database', () => {
  it('reads in a directory with no embedded database create none, and say which directory they looked in', async () => {
    const cwd = tempDir('no-db');
    const where = join(cwd, '.user-engine').replaceAll('.', '\\.');
    const message = new RegExp(
      `^no embedded database in ${where} \\(nothing was created there: run this where the database is, or give --data-dir DIR, --database-url URL or --memory\\)$`,
    );
    for (const args of [
      ['users', 'get', ID],
      ['users', 'find', '--email', EMAIL],
      ['users', 'list'],
      ['users', 'suspend', ID, '--reason', 'a reason that names someone'],
      ['audit'],
      ['outbox'],
      ['counts'],
      ['migrate', '--print-sql'],
    ]) {
      const row: Mistake = { mistake: args.join(' '), args, exit: 3, code: 'no_embedded_database', message };
      if (args[0] === 'migrate')
        row.message = new RegExp(`${message.source.slice(0, -1)}; --print-sql --from 0 prints`);
      const run = await cli(args, { cwd });
      expectTextFailure(run, row);
      expect(run.ms).toBeLessThan(20_000); // no PGlite start
    }
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
  }, 120_000);

  it('status on no embedded database is not ready (exit 1) and names the directory it looked at', async () => {
    const cwd = tempDir('status-none');
    const run = await cli(['status', '--schema', 'accounts'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      `store: embedded PGlite database in ${join(cwd, '.user-engine')}, schema accounts (the default: no --database-url, DATABASE_URL or --memory given)`,
    );
    expect(run.stdout).toContain(`schema: NOT READY: no embedded database in ${join(cwd, '.user-engine')}`);
    const json = await cli(['status', '--json'], { cwd });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ready: false, currentVersion: 0 });
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
  });

  it('a bad input to a command that would create the database is refused before creating it', async () => {
    const cwd = tempDir('no-create');
    const run = await cli(['users', 'register', '--email', 'not-an-email'], { cwd });
    expectTextFailure(run, {
      mistake: 'invalid email, embedded default',
      args: [],
      exit: 1,
      code: 'invalid_input',
      message: '--email: must contain exactly one @',
    });
    expect(run.ms).toBeLessThan(20_000);
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
  });
});

describe('cli error table: refusals that need data (one embedded database)', () => {
  const cwd = tempDir('refusals');
  let id = '';
  beforeAll(async () => {
    const run = await cli(['users', 'register', '--email', EMAIL, '--handle', HANDLE, '--json'], {
      cwd,
      timeoutMs: 120_000,
    });
    expect(run.code, run.stderr).toBe(0);
    id = (JSON.parse(run.stdout) as { id: string }).id;
    const linked = await cli(['users', 'link-identity', id, '--identity', 'github:secret-subject'], { cwd });
    expect(linked.code, linked.stderr).toBe(0);
  }, 180_000);

  const rows: [string, (id: string) => string[], number, string, string | RegExp][] = [
    [
      'an email address already taken, in another case',
      () => ['users', 'register', '--email', 'SECRET.person@example.com'],
      1,
      'email_taken',
      'that email address is already in use by another user',
    ],
    [
      'a handle already taken',
      () => ['users', 'register', '--email', 'other@example.com', '--handle', HANDLE],
      1,
      'handle_taken',
      'that handle is already in use by another user',
    ],
    [
      'reactivate a user who is active',
      (id) => ['users', 'reactivate', id],
      1,
      'invalid_state',
      /^user [0-9a-f-]{36} is not suspended$/,
    ],
    [
      'a stale --expected-version',
      (id) => ['users', 'grant-role', id, 'editor', '--expected-version', '1'],
      1,
      'version_conflict',
      'the user changed since that version was read; read it again and retry',
    ],
  ];
  for (const [mistake, args, exit, code, message] of rows) {
    it(`${mistake}: exit ${exit} [${code}]`, async () => {
      expectTextFailure(await cli(args(id), { cwd }), { mistake, args: [], exit, code, message });
    }, 60_000);
  }

  it('an identity already linked to another user: exit 1 [identity_taken]', async () => {
    const other = await cli(['users', 'register', '--email', 'third@example.com', '--json'], { cwd });
    const otherId = (JSON.parse(other.stdout) as { id: string }).id;
    const run = await cli(['users', 'link-identity', otherId, '--identity', 'github:secret-subject'], { cwd });
    expectTextFailure(run, {
      mistake: 'identity taken',
      args: [],
      exit: 1,
      code: 'identity_taken',
      message: 'that external identity is already linked to a user',
    });
  }, 60_000);
});

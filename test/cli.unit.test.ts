// End-to-end tests of the built `user-engine` bin, with no server: the
// embedded default, every engine command, paging, --memory, help and
// version, and the one-process-per-directory lock. Mistakes and what the
// tool says about them: cli-errors.unit.test.ts.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, startCli, tempDir } from './support/cli.js';

const root = join(import.meta.dirname, '..');
const ID = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface UserJson {
  id: string;
  version: number;
  status: string;
  email: string | null;
  emailVerifiedAt: string | null;
  handle: string | null;
  displayName: string | null;
  locale: string | null;
  roles: string[];
  identities: { provider: string; subject: string }[];
  attributes: Record<string, unknown>;
}

/**
 * A working directory holding a migrated embedded database, copied from one
 * made once: creating one takes seconds, copying a closed one does not.
 * The tests of creation itself make their own.
 */
let template = '';
beforeAll(async () => {
  template = tempDir('template');
  const run = await cli(['migrate'], { cwd: template, timeoutMs: 120_000 });
  expect(run.code, run.stderr).toBe(0);
}, 150_000);

function withEmbeddedDatabase(prefix: string): string {
  const cwd = tempDir(prefix);
  cpSync(join(template, '.user-engine'), join(cwd, '.user-engine'), { recursive: true });
  return cwd;
}

/** Runs a command that must succeed with --json and returns what it printed, parsed. */
async function json<T>(args: string[], cwd: string): Promise<T> {
  const run = await cli([...args, '--json'], { cwd });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('cli: the built bin', () => {
  it('exists and is executable (npm test builds first; the build sets the mode)', () => {
    expect(statSync(BIN).mode & 0o111).toBe(0o111);
    const run = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('--help works for every command and lists the exit codes', async () => {
    const cwd = tempDir('help');
    const global = await cli(['--help'], { cwd });
    expect(global.code).toBe(0);
    expect(global.stdout).toMatch(/usage: user-engine <command>/);
    expect(global.stdout).toMatch(/exit codes: 0 done; 1 refused/);
    const commands = [...global.stdout.matchAll(/^ {2}((?:users )?[a-z][a-z-]*) {2,}/gm)].map((m) => m[1] ?? '');
    expect(commands).toEqual(
      expect.arrayContaining(['demo', 'migrate', 'status', 'users update', 'users link-identity', 'outbox']),
    );
    for (const command of [...commands, 'users']) {
      const run = await cli([...command.split(' '), '--help'], { cwd });
      expect(run.code, command).toBe(0);
      expect(run.stdout).toMatch(/^usage:/);
    }
    expect((await cli(['help', 'users', 'register'], { cwd })).stdout).toMatch(/^usage: user-engine users register/);
  }, 120_000);
});

describe('cli: the embedded default', () => {
  it('the first command that writes creates it, says so on stderr, and its data survives into the next process', async () => {
    const cwd = tempDir('embedded');
    const demo = await cli(['demo'], { cwd, timeoutMs: 120_000 });
    expect(demo.code).toBe(0);
    expect(demo.stderr).toBe(
      `user-engine: creating the embedded database in ${join(cwd, '.user-engine')} (first run; this takes a few seconds)\n`,
    );
    expect(demo.stdout).toContain('embedded PGlite database');
    expect(demo.stdout).toMatch(/refused: email_taken/);
    expect(demo.stdout).toMatch(/audit entries:\s+11/);

    const again = await cli(['counts'], { cwd });
    expect(again.stderr).toBe(''); // created once
    const page = await json<{ users: UserJson[] }>(['users', 'list'], cwd);
    expect(page.users.map((u) => u.status).sort()).toEqual(['active', 'active', 'erased']);
    const status = await cli(['status'], { cwd });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('schema: ready');
  }, 180_000);

  it('--json keeps stderr for errors: no progress line', async () => {
    const cwd = tempDir('quiet');
    const run = await cli(['users', 'register', '--email', 'quiet@example.com', '--json'], { cwd, timeoutMs: 120_000 });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  }, 120_000);

  it('every engine command, one process each', async () => {
    const cwd = withEmbeddedDatabase('commands');
    let user = await json<UserJson>(
      [
        'users',
        'register',
        '--email',
        'Ada@Example.com',
        '--handle',
        'ada',
        '--display-name',
        'Ada',
        '--locale',
        'en-gb',
      ],
      cwd,
    );
    expect(user).toMatchObject({ version: 1, email: 'Ada@Example.com', handle: 'ada', locale: 'en-GB' });
    const id = user.id;
    const steps: [string[], Partial<UserJson>][] = [
      [
        ['users', 'update', id, '--display-name', 'Ada Lovelace', '--attributes', '{"plan":"pro"}'],
        { displayName: 'Ada Lovelace', attributes: { plan: 'pro' } },
      ],
      [['users', 'update', id, '--clear-locale'], { locale: null }],
      [['users', 'change-email', id, '--email', 'countess@example.com'], { email: 'countess@example.com' }],
      [
        ['users', 'verify-email', id, '--verified-at', '2026-12-01T10:00:00+01:00'],
        { emailVerifiedAt: '2026-12-01T09:00:00.000Z' },
      ],
      [['users', 'unverify-email', id], { emailVerifiedAt: null }],
      [['users', 'verify-email', id], {}],
      [['users', 'change-handle', id, '--handle', 'countess'], { handle: 'countess' }],
      [['users', 'change-handle', id, '--clear-handle'], { handle: null }],
      [['users', 'grant-role', id, 'editor'], { roles: ['editor'] }],
      [['users', 'grant-role', id, 'admin', '--actor', 'admin:7'], { roles: ['admin', 'editor'] }],
      [['users', 'revoke-role', id, 'editor'], { roles: ['admin'] }],
      [
        ['users', 'link-identity', id, '--identity', 'github:ada-1815'],
        { identities: [{ provider: 'github', subject: 'ada-1815' }] },
      ],
      [['users', 'unlink-identity', id, '--identity', 'github:ada-1815'], { identities: [] }],
      [['users', 'suspend', id, '--reason', 'testing'], { status: 'suspended' }],
      [['users', 'reactivate', id, '--expected-version', '15'], { status: 'active' }],
    ];
    for (const [args, expected] of steps) {
      const before = user.version;
      user = await json<UserJson>(args, cwd);
      expect(user, args.join(' ')).toMatchObject(expected);
      expect(user.version).toBe(before + 1);
    }
    const byEmail = await json<UserJson>(['users', 'find', '--email', 'COUNTESS@example.com'], cwd);
    expect(byEmail.id).toBe(id);
    const text = await cli(['users', 'get', id], { cwd });
    expect(text.stdout).toMatch(/^id:\s+/);
    expect(text.stdout).toContain('roles:          admin');
    expect(text.stdout).toMatch(/email verified: \d{4}-\d\d-\d\dT/);

    const erased = await cli(['users', 'erase', id], { cwd });
    expect(erased.stdout).toMatch(/^erased: personal data removed, tombstone kept/);
    const audit = await json<{ entries: { action: string; actor: string }[]; next: number | null }>(
      ['audit', '--record-key', `user:${id}`],
      cwd,
    );
    expect(audit.entries.map((e) => e.action)).toEqual([
      'user.registered',
      'user.profile_updated',
      'user.profile_updated',
      'user.email_changed',
      'user.email_verified',
      'user.email_unverified',
      'user.email_verified',
      'user.handle_changed',
      'user.handle_changed',
      'user.role_granted',
      'user.role_granted',
      'user.role_revoked',
      'user.identity_linked',
      'user.identity_unlinked',
      'user.suspended',
      'user.reactivated',
      'user.erased',
    ]);
    expect(audit.entries[10]?.actor).toBe('admin:7');
    expect(audit.next).toBeNull();
  }, 240_000);

  it('audit, outbox and users list print the command for the next page', async () => {
    const cwd = withEmbeddedDatabase('paging');
    expect((await cli(['demo'], { cwd, timeoutMs: 120_000 })).code).toBe(0);

    const audit = await cli(['audit', '--limit', '4'], { cwd });
    expect(audit.stdout.trimEnd()).toMatch(/\nmore: user-engine audit --after-seq 4 --limit 4$/);
    const last = await json<{ entries: { seq: number }[]; next: number | null }>(
      ['audit', '--after-seq', '8', '--limit', '4'],
      cwd,
    );
    expect(last.entries.map((e) => e.seq)).toEqual([9, 10, 11]);
    expect(last.next).toBeNull();

    const outbox = await json<{ messages: { seq: number }[]; next: number | null }>(['outbox', '--limit', '5'], cwd);
    expect(outbox.next).toBe(5);
    const outboxText = await cli(['outbox', '--after-seq', '5', '--limit', '5'], { cwd });
    expect(outboxText.stdout.trimEnd()).toMatch(/\nmore: user-engine outbox --after-seq 10 --limit 5$/);

    const users = await cli(['users', 'list', '--limit', '2'], { cwd });
    expect(users.stdout.trimEnd()).toMatch(
      new RegExp(`\\nmore: user-engine users list --after ${ID.source} --limit 2$`),
    );
  }, 180_000);

  it('--memory runs on a throw-away store and leaves no directory behind', async () => {
    const cwd = tempDir('memory');
    const demo = await cli(['demo', '--memory'], { cwd });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('in-memory store');
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
    expect(await json(['counts', '--memory'], cwd)).toEqual({ records: {}, audit: 0, outboxPending: 0 });
    const status = await cli(['status', '--memory'], { cwd });
    expect(status.code).toBe(0);
  });

  it('migrate --print-sql --from 0 prints every version as SQL without opening a store', async () => {
    const cwd = tempDir('print-sql');
    const run = await cli(['migrate', '--print-sql', '--from', '0', '--schema', 'accounts'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^-- user-engine schema "accounts": the versions after 0/);
    expect([...run.stdout.matchAll(/^-- ==== version (\d+): /gm)].map((m) => Number(m[1]))).toEqual([1, 2, 3, 4, 5]);
    expect(run.stdout).toContain('-- checksum: sha256:');
    expect(run.stdout).toContain('must be applied with: user-engine migrate --schema accounts');
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
    const versions = await json<{ versions: { version: number; kind: string }[] }>(
      ['migrate', '--print-sql', '--from', '3'],
      cwd,
    );
    expect(versions.versions.map((v) => [v.version, v.kind])).toEqual([
      [4, 'guarded-data-step'],
      [5, 'script'],
    ]);
  });
});

describe('cli: one embedded directory, one process', () => {
  it('a directory held by a live process is refused with a one-line error naming it (exit 3)', async () => {
    const cwd = withEmbeddedDatabase('busy');
    // This test process is alive: a lock naming it is a live holder.
    writeFileSync(join(cwd, '.user-engine', 'user-engine.lock'), String(process.pid));
    const run = await cli(['users', 'list'], { cwd });
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toBe(
      `user-engine: the embedded database in ${join(cwd, '.user-engine')} is in use by another user-engine process (pid ${process.pid}); wait for it to finish, or use --memory or --database-url [embedded_database_busy]`,
    );
    expect(run.ms).toBeGreaterThanOrEqual(2_500); // it waited briefly first
  }, 150_000);

  it('a directory left by a process that died without closing PGlite is recovered, and the command still ends', async () => {
    const cwd = withEmbeddedDatabase('unclean');
    const pglite = join(root, 'node_modules', '@electric-sql', 'pglite', 'dist', 'index.js');
    // Holds the lock and the database, then dies without closing either: a crash, a kill -9.
    const crash = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { writeFileSync } from 'node:fs';
         writeFileSync('.user-engine/user-engine.lock', String(process.pid));
         const { PGlite } = await import(${JSON.stringify(pglite)});
         const db = await PGlite.create('.user-engine/pgdata');
         await db.query('select 1');
         process.exit(0);`,
      ],
      { cwd, encoding: 'utf8', timeout: 120_000 },
    );
    expect(crash.status, crash.stderr).toBe(0);
    expect(existsSync(join(cwd, '.user-engine', 'pgdata', 'postmaster.pid'))).toBe(true);
    const run = await cli(['users', 'register', '--email', 'after-crash@example.com'], { cwd, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^registered/);
    // Closed cleanly this time, and the lock released.
    expect(existsSync(join(cwd, '.user-engine', 'pgdata', 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(cwd, '.user-engine', 'user-engine.lock'))).toBe(false);
  }, 300_000);

  it('two processes started together on one directory never corrupt it or lose an acknowledged write', async () => {
    const cwd = withEmbeddedDatabase('two');
    const runs = await Promise.all(
      [1, 2, 3].map((i) => cli(['users', 'register', '--email', `p${i}@example.com`, '--json'], { cwd })),
    );
    const acknowledged = runs.filter((r) => r.code === 0).map((r) => (JSON.parse(r.stdout) as { email: string }).email);
    for (const r of runs) if (r.code !== 0) expect(r.stderr).toMatch(/"code":"embedded_database_busy"/);
    expect(acknowledged.length).toBeGreaterThanOrEqual(1);
    const emails = (await json<{ users: { email: string }[] }>(['users', 'list'], cwd)).users.map((u) => u.email);
    expect(emails.sort()).toEqual(acknowledged.sort());
  }, 180_000);
});

describe('cli: relay and signals', () => {
  /**
   * Starts the relay against a server that accepts connections and never
   * answers, SIGTERMs it once its own code is connecting, and returns how it
   * ended and how long that took.
   */
  async function stopWhileConnecting(args: (port: number) => string[], signals: NodeJS.Signals[] = ['SIGTERM']) {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    let connected!: () => void;
    const reached = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const blackHole = createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as import('node:net').AddressInfo).port;
    try {
      const { child, output, ended } = startCli([...args(port), '--json'], { cwd: tempDir('relay-signal') });
      await reached; // the relay's own code runs: it is connecting
      const stoppedAt = Date.now();
      for (const signal of signals) {
        child.kill(signal);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const { code, signal } = await ended;
      return { code, signal, ...output, ms: Date.now() - stoppedAt };
    } finally {
      for (const socket of sockets) socket.destroy();
      blackHole.close();
    }
  }

  it('a relay stopped while it is still connecting to the broker exits 0 at once, having claimed nothing', async () => {
    const run = await stopWhileConnecting((port) => [
      'relay',
      '--memory',
      '--to',
      `amqp://127.0.0.1:${port}?connect_timeout_ms=60000`,
    ]);
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ stoppedBeforeStart: true });
    // Not the 60 s connect timeout: the abandoned connection attempt is left
    // to the bin's 2 s exit fallback (main.ts, exitSoon).
    expect(run.ms).toBeLessThan(5_000);
  }, 60_000);

  it('a relay stopped while the database does not answer exits 0 without waiting for the driver to give up', async () => {
    const run = await stopWhileConnecting((port) => [
      'relay',
      '--database-url',
      `postgres://postgres@127.0.0.1:${port}/test`,
      '--to',
      'nats://127.0.0.1:4222',
    ]);
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ stoppedBeforeStart: true });
    // The store's close is given up after 2 s, then the 2 s exit fallback: not node-postgres' 10 s.
    expect(run.ms).toBeLessThan(7_000);
  }, 60_000);

  it('a second signal while the stopped relay is still ending is handled too: SIGTERM ignored, SIGINT exits 130', async () => {
    const args = (port: number) => ['relay', '--memory', '--to', `amqp://127.0.0.1:${port}?connect_timeout_ms=60000`];
    const terms = await stopWhileConnecting(args, ['SIGTERM', 'SIGTERM']);
    expect({ code: terms.code, signal: terms.signal }).toEqual({ code: 0, signal: null });
    const ints = await stopWhileConnecting(args, ['SIGINT', 'SIGINT']);
    expect({ code: ints.code, signal: ints.signal }).toEqual({ code: 130, signal: null });
  }, 60_000);
});

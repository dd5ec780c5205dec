// End-to-end tests of the built `user-engine` bin, with no server: the
// embedded default, --memory, bad usage, and two processes on one directory.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, tempDir } from './support/cli.js';

describe('cli: the embedded default', () => {
  it('the built bin exists (npm test builds first)', () => {
    expect(existsSync(BIN)).toBe(true);
  });

  it('demo runs on the embedded database, and its data survives into the next process', async () => {
    const cwd = tempDir('embedded');
    const demo = await cli(['demo'], { cwd });
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('embedded PGlite database');
    expect(demo.stdout).toMatch(/refused: email_taken/);
    expect(demo.stdout).toMatch(/audit entries:\s+11/);
    expect(existsSync(join(cwd, '.user-engine'))).toBe(true);

    const list = await cli(['users', 'list', '--json'], { cwd });
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as { users: { status: string; email: string | null }[] };
    expect(page.users.map((u) => u.status).sort()).toEqual(['active', 'active', 'erased']);

    const registered = await cli(
      ['users', 'register', '--email', 'Persist@Example.com', '--handle', 'persist', '--json'],
      {
        cwd,
      },
    );
    expect(registered.code).toBe(0);
    const user = JSON.parse(registered.stdout) as { id: string };
    const found = await cli(['users', 'find', '--email', 'persist@example.com', '--json'], { cwd });
    expect(JSON.parse(found.stdout)).toMatchObject({ id: user.id, email: 'Persist@Example.com', handle: 'persist' });

    const suspended = await cli(['users', 'suspend', user.id, '--reason', 'testing', '--actor', 'ops'], { cwd });
    expect(suspended.stdout).toContain('suspended');
    expect((await cli(['users', 'reactivate', user.id], { cwd })).code).toBe(0);
    expect((await cli(['users', 'erase', user.id], { cwd })).stdout).toContain('erased');
    const audit = await cli(['audit', '--record-key', `user:${user.id}`, '--json'], { cwd });
    expect((JSON.parse(audit.stdout) as { action: string; actor: string }[]).map((e) => e.action)).toEqual([
      'user.registered',
      'user.suspended',
      'user.reactivated',
      'user.erased',
    ]);
    const counts = await cli(['counts', '--json'], { cwd });
    expect(JSON.parse(counts.stdout)).toMatchObject({ audit: 15, outboxPending: 15 });
    const outbox = await cli(['outbox', '--after-seq', '14'], { cwd });
    expect(outbox.stdout).toContain('user.erased');
    const status = await cli(['status'], { cwd });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('ready');
  }, 60_000);

  it('--memory runs on a throw-away store and leaves no directory behind', async () => {
    const cwd = tempDir('memory');
    const demo = await cli(['demo', '--memory'], { cwd });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('in-memory store');
    expect(existsSync(join(cwd, '.user-engine'))).toBe(false);
    const counts = await cli(['counts', '--memory', '--json'], { cwd });
    expect(JSON.parse(counts.stdout)).toEqual({ records: {}, audit: 0, outboxPending: 0 });
  });
});

describe('cli: errors are one clear line and a non-zero exit', () => {
  const cwd = tempDir('usage');
  const cases: [string, string[], number, RegExp][] = [
    ['no command', [], 2, /usage: user-engine <command>/],
    ['unknown command', ['frobnicate', '--memory'], 2, /unknown command "frobnicate"/],
    ['unknown option', ['status', '--frob'], 2, /Unknown option '--frob'/],
    ['unknown users command', ['users', 'bogus', '--memory'], 2, /unknown users command "bogus"/],
    ['missing --email', ['users', 'register', '--memory'], 2, /--email is required/],
    [
      'invalid email',
      ['users', 'register', '--email', 'nope', '--memory'],
      1,
      /email: must contain exactly one @ \[invalid_input\]/,
    ],
    [
      'bad attributes JSON',
      ['users', 'register', '--email', 'a@example.com', '--attributes', '{', '--memory'],
      1,
      /attributes/,
    ],
    ['unknown user', ['users', 'get', '01900000-0000-7000-8000-000000000000', '--memory'], 1, /no such user/],
    ['bad limit', ['audit', '--limit', 'ten', '--memory'], 2, /--limit must be a whole number/],
    ['both stores', ['status', '--memory', '--database-url', 'postgres://x@127.0.0.1:1/x'], 2, /cannot be combined/],
    [
      'unreachable server',
      ['status', '--database-url', 'postgres://nobody@127.0.0.1:1/none'],
      1,
      /store_unavailable|connect|ECONNREFUSED/i,
    ],
  ];
  for (const [name, args, code, pattern] of cases) {
    it(`${name}: exit ${code}`, async () => {
      const run = await cli(args, { cwd });
      expect(run.code).toBe(code);
      const output = `${run.stdout}${run.stderr}`;
      expect(output).toMatch(pattern);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
      if (code !== 0 && run.stderr !== '')
        expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(code === 2 && args.length === 0 ? 40 : 1);
    });
  }

  it('an email already taken is said in words', async () => {
    const dir = tempDir('taken');
    await cli(['users', 'register', '--email', 'dup@example.com'], { cwd: dir });
    const again = await cli(['users', 'register', '--email', 'DUP@example.com'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('user-engine: that email address is already in use by another user [email_taken]');
  }, 30_000);

  it('--help works for every command', async () => {
    for (const command of ['demo', 'migrate', 'status', 'counts', 'users', 'audit', 'outbox']) {
      const run = await cli([command, '--help'], { cwd });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/usage:/);
    }
  });
});

describe('cli: one embedded directory, one process', () => {
  it('a directory held by a live process is refused with a one-line error naming it', async () => {
    const cwd = tempDir('busy');
    await cli(['status'], { cwd });
    // This test process is alive: a lock naming it is a live holder.
    writeFileSync(join(cwd, '.user-engine', 'user-engine.lock'), String(process.pid));
    const started = Date.now();
    const run = await cli(['users', 'list'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(new RegExp(`in use by another user-engine process \\(pid ${process.pid}\\)`));
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500); // it waited briefly first
  }, 30_000);

  it('a lock left by a dead process is taken over', async () => {
    const cwd = tempDir('stale');
    await cli(['status'], { cwd });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(cwd, '.user-engine', 'user-engine.lock'), dead);
    const run = await cli(['status'], { cwd });
    expect(run.code).toBe(0);
    expect(existsSync(join(cwd, '.user-engine', 'user-engine.lock'))).toBe(false);
  }, 30_000);

  it('two processes started together on one directory never corrupt it or lose an acknowledged write', async () => {
    const cwd = tempDir('two');
    await cli(['status'], { cwd });
    const runs = await Promise.all(
      [1, 2, 3].map((i) => cli(['users', 'register', '--email', `p${i}@example.com`, '--json'], { cwd })),
    );
    const acknowledged = runs.filter((r) => r.code === 0).map((r) => (JSON.parse(r.stdout) as { email: string }).email);
    for (const r of runs) if (r.code !== 0) expect(r.stderr).toMatch(/in use by another user-engine process/);
    expect(acknowledged.length).toBeGreaterThanOrEqual(1);
    const list = await cli(['users', 'list', '--json'], { cwd });
    expect(list.code).toBe(0);
    const emails = (JSON.parse(list.stdout) as { users: { email: string }[] }).users.map((u) => u.email).sort();
    expect(emails).toEqual(acknowledged.sort());
  }, 60_000);
});

// The README's library examples that need no server run as written (imports
// pointed at the build) and end on their own: nothing is appended that
// would exit for them, and the time between an example's last statement and
// the process's exit shows whether it left something open.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.js';
import { readmeBlock, readmeBlocks, root, runReadmeBlock } from './support/readme.js';

/** Far below the 10 s an open pool or PGlite instance keeps Node alive; far above a clean exit. */
const CLEAN_EXIT_MS = 3_000;

describe('README examples', () => {
  it('has the library examples these tests run', () => {
    expect(readmeBlocks.length).toBeGreaterThanOrEqual(5);
  });

  it('the in-memory quick start runs and ends', () => {
    const run = runReadmeBlock(readmeBlock('user-engine'));
    expect(run.stdout).toContain('already registered');
    expect(run.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
  }, 60_000);

  it('the Auth.js example signs in by email link through Auth() and ends', () => {
    const run = runReadmeBlock(readmeBlock('user-engine/authjs'));
    expect(run.stdout).toContain('signed in as ada@example.com');
    expect(run.stdout).toContain('user.registered, user.signed_in');
    expect(run.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
  }, 60_000);

  it('the PGlite example runs, ends on its own, and finds its user again on the next run', () => {
    const cwd = tempDir('readme-pglite');
    const first = runReadmeBlock(readmeBlock('@electric-sql/pglite'), { cwd, timeoutMs: 120_000 });
    expect(first.stdout).toMatch(/^ada is [0-9a-f-]{36}$/m);
    expect(first.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
    // A closed PGlite leaves no postmaster.pid: the next start needs no recovery.
    expect(existsSync(join(cwd, 'data', 'postmaster.pid'))).toBe(false);
    const second = runReadmeBlock(readmeBlock('@electric-sql/pglite'), { cwd, timeoutMs: 120_000 });
    expect(second.stdout).toBe(first.stdout);
  }, 300_000);

  it('the PGlite example ends on its own on a directory left by a process that did not close PGlite', () => {
    const cwd = tempDir('readme-unclean');
    const pglite = join(root, 'node_modules', '@electric-sql', 'pglite', 'dist', 'index.js');
    // What a crash, or an example ended with process.exit(), leaves behind.
    const crash = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = await PGlite.create('./data'); await db.query('select 1'); process.exit(0);`,
      ],
      { cwd, encoding: 'utf8', timeout: 120_000 },
    );
    expect(crash.status).toBe(0);
    expect(existsSync(join(cwd, 'data', 'postmaster.pid'))).toBe(true);
    const run = runReadmeBlock(readmeBlock('@electric-sql/pglite'), { cwd, timeoutMs: 120_000 });
    expect(run.stdout).toMatch(/^ada is [0-9a-f-]{36}$/m);
    expect(run.lingerMs).toBeLessThan(CLEAN_EXIT_MS);
  }, 300_000);
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { tempDir } from './cli.js';

export const root = join(import.meta.dirname, '..', '..');

/** The README's ```ts blocks, in order. */
export const readmeBlocks: string[] = [
  ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g),
].map((m) => m[1] ?? '');

/** The README block that imports `module` (and is not the harness example), so tests do not depend on block order. */
export function readmeBlock(module: string): string {
  const block = readmeBlocks.find((b) => b.includes(`from '${module}'`) && !b.includes("from 'vitest'"));
  if (block === undefined) throw new Error(`no README example imports ${module}`);
  return block;
}

/** The README's harness example: the block that runs the shared suites under Vitest. */
export function harnessBlock(): string {
  const block = readmeBlocks.find((b) => b.includes("from 'vitest'"));
  if (block === undefined) throw new Error('no README example imports vitest');
  return block;
}

/** What the examples import, linked from this checkout's node_modules. */
const LINKED = ['pg', '@types/pg', 'postgres', '@electric-sql/pglite', '@auth/core', 'vitest', '@types/node'];

/**
 * A scratch project as a user would have one: `package.json` of type
 * module, `node_modules` holding this package (resolved through its exports
 * map, so to the built dist/) and the drivers and Vitest, and `files`.
 */
export function scratchProject(files: Record<string, string>): string {
  const dir = tempDir('readme-project');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-examples', type: 'module', private: true }));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@types'), { recursive: true });
  mkdirSync(join(modules, '@electric-sql'), { recursive: true });
  mkdirSync(join(modules, '@auth'), { recursive: true });
  symlinkSync(root, join(modules, 'user-engine'), 'dir');
  for (const name of LINKED) symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const IMPORTS: [string, string][] = [
  ["from 'user-engine/postgres'", 'dist/postgres/index.js'],
  ["from 'user-engine/authjs'", 'dist/authjs/index.js'],
  ["from 'user-engine/brokers'", 'dist/outbox/brokers/index.js'],
  ["from '@auth/core'", 'node_modules/@auth/core/index.js'],
  ["from 'user-engine/testing'", 'dist/testing/index.js'],
  ["from 'user-engine'", 'dist/index.js'],
  ["from 'pg'", 'node_modules/pg/esm/index.mjs'],
  ["from 'postgres'", 'node_modules/postgres/src/index.js'],
  ["from '@electric-sql/pglite'", 'node_modules/@electric-sql/pglite/dist/index.js'],
];

export interface ExampleRun {
  stdout: string;
  stderr: string;
  /** Milliseconds from the example's last statement to the process's exit: how long something kept it alive. */
  lingerMs: number;
}

/**
 * Runs a README block (its types stripped) as an ES module in `cwd` (a
 * scratch directory by default), importing the package from dist/, and waits for it to exit on
 * its own — nothing is appended that would end it. It fails if the example
 * throws, or has not exited after `timeoutMs`. The one line appended records
 * when the example's last statement finished, so a test can tell how long
 * an open pool or database kept the process alive after the work was done.
 */
export function runReadmeBlock(
  source: string,
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): ExampleRun {
  // The blocks are TypeScript: strip the types (nothing else changes) so Node runs them as written.
  let code = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
  for (const [from, path] of IMPORTS) code = code.replaceAll(from, `from '${join(root, path)}'`);
  const cwd = options.cwd ?? tempDir('readme');
  const file = join(cwd, `example-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(
    file,
    `${code}\nconst __workDone = performance.now();\nprocess.on('exit', () => process.stderr.write(\`\\n__linger_ms=\${Math.round(performance.now() - __workDone)}\\n\`));\n`,
  );
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = spawnSync(process.execPath, [file], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (run.error !== undefined || run.signal !== null) {
    throw new Error(`the example did not exit on its own within ${timeoutMs} ms (${run.error?.message ?? run.signal})`);
  }
  if (run.status !== 0) throw new Error(`the example failed with exit code ${run.status}:\n${run.stderr}`);
  const linger = /__linger_ms=(\d+)/.exec(run.stderr);
  return {
    stdout: run.stdout,
    stderr: run.stderr.replace(/\n?__linger_ms=\d+\n/, ''),
    lingerMs: linger === null ? Number.NaN : Number(linger[1]),
  };
}

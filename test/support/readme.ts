import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

const root = join(import.meta.dirname, '..', '..');

/** The README's ```ts blocks, in order. */
export const readmeBlocks: string[] = [
  ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g),
].map((m) => m[1] ?? '');

const IMPORTS: [string, string][] = [
  ["from 'user-engine/postgres'", 'dist/postgres/index.js'],
  ["from 'user-engine/testing'", 'dist/testing/index.js'],
  ["from 'user-engine'", 'dist/index.js'],
  ["from 'pg'", 'node_modules/pg/esm/index.mjs'],
  ["from 'postgres'", 'node_modules/postgres/src/index.js'],
  ["from '@electric-sql/pglite'", 'node_modules/@electric-sql/pglite/dist/index.js'],
];

/** Runs a README block as an ES module in a scratch directory, importing the package from dist/. */
export function runReadmeBlock(source: string, env: Record<string, string> = {}): string {
  let code = source;
  for (const [from, path] of IMPORTS) code = code.replaceAll(from, `from '${join(root, path)}'`);
  const file = join(tempDir('readme'), 'example.mjs');
  // The examples leave their pools and databases open, as an application would: exit when done.
  writeFileSync(file, `${code}\nconsole.log('example ran');\nprocess.exit(0);\n`);
  return execFileSync(process.execPath, [file], {
    cwd: join(file, '..'),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

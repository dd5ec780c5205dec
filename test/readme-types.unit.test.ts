// The README's TypeScript examples type-check as a user's project would
// compile them: a scratch project with `strict`, NodeNext resolution and
// the package resolved through its exports map to the built declarations
// (dist/, which `npm test` builds first), beside the real driver types.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, root, scratchProject } from './support/readme.js';

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
    noEmit: true,
    // As most projects do: PGlite's own declarations need DOM and Emscripten types to check.
    skipLibCheck: true,
  },
  include: ['*.ts'],
});

function typecheck(files: Record<string, string>) {
  const dir = scratchProject({ 'tsconfig.json': TSCONFIG, ...files });
  return spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 170_000,
  });
}

const examples = Object.fromEntries(readmeBlocks.map((block, i) => [`example-${i}.ts`, block]));

describe('README examples type-check', () => {
  it('every ```ts block compiles under strict, NodeNext, against the built package', () => {
    const tsc = typecheck(examples);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 180_000);

  it('the check can fail: a block with a type error is reported', () => {
    const tsc = typecheck({
      ...examples,
      'broken.ts': "import { UserEngine } from 'user-engine';\nnew UserEngine({ store: 'not a store' });\n",
    });
    expect(tsc.status).not.toBe(0);
    expect(tsc.stdout).toMatch(/broken\.ts.*error TS2322/);
  }, 180_000);
});

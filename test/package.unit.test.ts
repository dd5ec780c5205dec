// The published shape: pack the package as npm would, unpack it into a
// scratch project's node_modules, and use it only through its exports map
// and its bin — as a consumer would.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../src/index.js';
import { tempDir } from './support/cli.js';

const root = join(import.meta.dirname, '..');

describe('the packed package', () => {
  let project: string;
  let pkgDir: string;
  let tarball: string;
  beforeAll(() => {
    project = tempDir('pack');
    // --ignore-scripts: `npm test` has just built dist/, and prepack's rebuild would replace it
    // under the other test files that run the bin. That prepack builds is checked below.
    const name = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', project], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    tarball = join(project, name.split('\n').pop() ?? '');
    pkgDir = join(project, 'node_modules', 'user-engine');
    mkdirSync(pkgDir, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  });

  it('is built by npm pack itself (prepack), from a clean dist/, with an executable bin', () => {
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.prepack).toBe('npm run build');
    expect(scripts.prebuild).toContain("rmSync('dist'");
    expect(scripts.postbuild).toContain("chmodSync('dist/cli/main.js', 0o755)");
    // In this checkout (built by npm test) and in the tarball.
    expect(statSync(join(root, 'dist', 'cli', 'main.js')).mode & 0o111).toBe(0o111);
    const listing = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x .* package\/dist\/cli\/main\.js$/m);
  });

  it('ships no source maps (they would point at src/, which is not shipped)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
      );
    const shipped = files(join(pkgDir, 'dist'));
    expect(shipped.filter((f) => f.endsWith('.map'))).toEqual([]);
    const mapped = shipped.filter((f) => f.endsWith('.js') && readFileSync(f, 'utf8').includes('sourceMappingURL'));
    expect(mapped).toEqual([]);
  });

  it('ships dist with declarations for every entry, the docs, and no sources or tests', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    for (const entry of ['.', './store', './postgres', './testing', './authjs']) {
      for (const condition of ['types', 'import', 'require', 'default']) {
        expect(existsSync(join(pkgDir, pkg.exports[entry][condition])), `${entry} ${condition}`).toBe(true);
      }
    }
    expect(existsSync(join(pkgDir, 'docs', 'durable-store.md'))).toBe(true);
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
    expect(existsSync(join(pkgDir, 'test'))).toBe(false);
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('imports through the exports map: user-engine, user-engine/postgres, user-engine/testing, user-engine/authjs (without @auth/core)', () => {
    const script = `
      const core = await import('user-engine');
      const pg = await import('user-engine/postgres');
      const testing = await import('user-engine/testing');
      // No @auth/core in this project: the adapter entry must load without it (types only).
      const authjs = await import('user-engine/authjs');
      const store = new core.InMemoryUserEngineStore();
      await store.migrate();
      const engine = new core.UserEngine({ store });
      const user = await engine.registerUser({ actor: 'pack' }, { email: 'pack@example.com' });
      const fake = new testing.FakePostgresConnection();
      const pgStore = new pg.PostgresUserEngineStore({ connection: fake });
      await pgStore.migrate();
      const adapter = authjs.UserEngineAdapter(engine);
      const viaAdapter = await adapter.getUserByEmail('PACK@example.com');
      console.log(JSON.stringify({ version: user.version, latest: core.LATEST_SCHEMA_VERSION, ready: (await pgStore.readiness()).ready, adapter: viaAdapter.id === user.id }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ version: 1, latest: LATEST_SCHEMA_VERSION, ready: true, adapter: true });
  });

  it('each entry exports at run time exactly the values of the reviewed list', () => {
    const reviewed = readFileSync(join(root, 'test', 'fixtures', 'public-api.txt'), 'utf8').split('\n\n');
    const expected = Object.fromEntries(
      reviewed.map((block) => {
        const [title = '', ...lines] = block.trim().split('\n');
        const values = lines
          .map((line) => line.trim().split(/\s+/))
          .filter(([, kind]) => kind === 'class' || kind === 'function' || kind === 'const')
          .map(([name]) => name);
        return [title.split(' ')[0], values.sort()];
      }),
    );
    const script = `
      const out = {};
      for (const entry of ${JSON.stringify(Object.keys(expected))}) out[entry] = Object.keys(await import(entry)).sort();
      console.log(JSON.stringify(out));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('CommonJS consumers can require() every entry (Node >= 20.19 loads the ES modules)', () => {
    const script = `
      const core = require('user-engine');
      const store = require('user-engine/store');
      const pg = require('user-engine/postgres');
      const testing = require('user-engine/testing');
      const memory = new core.InMemoryUserEngineStore();
      memory.migrate().then(async () => {
        const user = await new core.UserEngine({ store: memory }).registerUser({ actor: 'cjs' }, { email: 'cjs@example.com' });
        console.log(JSON.stringify({
          user: user.version,
          store: typeof store.UnitOfWork,
          pg: typeof pg.PostgresUserEngineStore,
          testing: typeof testing.runStoreConformance,
        }));
      });
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ user: 1, store: 'function', pg: 'function', testing: 'function' });
  });

  it('runs the bin from the package, as an executable', () => {
    const bin = join(pkgDir, 'dist', 'cli', 'main.js');
    expect(execFileSync(bin, ['--help'], { cwd: project, encoding: 'utf8' })).toContain('usage: user-engine <command>');
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
    expect(execFileSync(bin, ['--version'], { cwd: project, encoding: 'utf8' }).trim()).toBe(version);
  });
});

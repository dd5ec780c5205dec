import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const DRIVERS = ['pg', 'pg-pool', '@electric-sql/pglite', 'postgres', 'pg-native'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/**
 * Every module specifier a file names — static imports, re-exports, dynamic
 * import() and require() — read by TypeScript's own pre-processor, so an
 * import shown in a doc comment does not count.
 */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

describe('the library never imports a Postgres driver', () => {
  it('no file under src/ outside src/cli/ names a driver module, statically or dynamically', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      if (rel.startsWith(join('src', 'cli'))) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (DRIVERS.some((d) => spec === d || spec.startsWith(`${d}/`))) offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the core, postgres and testing entries import only the package itself and node: builtins', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      if (rel.startsWith(join('src', 'cli'))) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.') && !spec.startsWith('node:')) offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('package.json has no runtime dependencies; drivers are optional peers only', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const name of Object.keys(pkg.peerDependencies ?? {}))
      expect(pkg.peerDependenciesMeta?.[name]?.optional).toBe(true);
  });

  it('the detector itself catches an import, a re-export and a dynamic import', () => {
    const source = `// import a from 'commented'\nimport pg from 'pg';\nexport { x } from "postgres";\nawait import('@electric-sql/pglite')`;
    expect(specifiers(source).sort()).toEqual(['@electric-sql/pglite', 'pg', 'postgres']);
  });
});

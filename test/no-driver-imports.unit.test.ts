import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const DRIVERS = ['pg', 'pg-pool', '@electric-sql/pglite', 'postgres', 'pg-native'];
const BROKER_CLIENTS = ['nats', 'amqplib', 'redis', '@redis/client'];
const BROKERS_DIR = join('src', 'outbox', 'brokers');
/** Auth.js: an optional peer the library may name for types only (`import type`), never load. */
const AUTHJS = '@auth/core';
const isAuthjs = (spec: string) => spec === AUTHJS || spec.startsWith(`${AUTHJS}/`) || spec.startsWith('@auth/');

function sourceFiles(dir: string, extension = '.ts'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name), extension)
      : entry.name.endsWith(extension)
        ? [join(dir, entry.name)]
        : [],
  );
}

/**
 * Module specifiers a file names in anything but a type-only import or
 * export (`import type …`, `export type … from`, or an import whose every
 * name is marked `type`): what would load at run time.
 */
function runtimeSpecifiers(source: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, true);
  const typeOnly = new Set<string>();
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      const allNamedTypes =
        clause !== undefined &&
        clause.name === undefined &&
        bindings !== undefined &&
        ts.isNamedImports(bindings) &&
        bindings.elements.every((e) => e.isTypeOnly);
      if (clause?.isTypeOnly === true || allNamedTypes) typeOnly.add(statement.moduleSpecifier.text);
    }
    if (ts.isExportDeclaration(statement) && statement.isTypeOnly && statement.moduleSpecifier !== undefined) {
      if (ts.isStringLiteral(statement.moduleSpecifier)) typeOnly.add(statement.moduleSpecifier.text);
    }
  }
  const counts = new Map<string, number>();
  for (const spec of specifiers(source)) counts.set(spec, (counts.get(spec) ?? 0) + 1);
  return [...counts.keys()].filter((spec) => !typeOnly.has(spec) || (counts.get(spec) ?? 0) > 1);
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

  it('the library imports only the package itself and node: builtins — and Auth.js for types only', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      if (rel.startsWith(join('src', 'cli')) || rel.startsWith(BROKERS_DIR)) continue;
      const source = readFileSync(file, 'utf8');
      for (const spec of specifiers(source)) {
        if (!spec.startsWith('.') && !spec.startsWith('node:') && !isAuthjs(spec)) {
          offenders.push(`${rel} imports ${spec}`);
        }
      }
      for (const spec of runtimeSpecifiers(source)) {
        if (isAuthjs(spec)) offenders.push(`${rel} loads ${spec} at run time (only import type is allowed)`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('a broker client is named only in src/outbox/brokers/, where it is loaded by dynamic import() or for types', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      const source = readFileSync(file, 'utf8');
      const clients = specifiers(source).filter((spec) =>
        BROKER_CLIENTS.some((c) => spec === c || spec.startsWith(`${c}/`)),
      );
      if (clients.length === 0) continue;
      if (!rel.startsWith(BROKERS_DIR)) {
        offenders.push(`${rel} imports ${clients.join(', ')}`);
        continue;
      }
      // Static imports of a client must be `import type` (erased): the value comes from import() when a publisher opens.
      for (const line of source.split('\n')) {
        const match = /^\s*import\s+(?!type\b)[^'"]*from\s+['"]([^'"]+)['"]/.exec(line);
        if (match?.[1] !== undefined && BROKER_CLIENTS.includes(match[1])) offenders.push(`${rel}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the built library (dist/, which npm test builds first) never loads Auth.js or a driver', () => {
    const dist = join(root, 'dist');
    expect(existsSync(join(dist, 'authjs', 'index.js')), 'run npm run build first').toBe(true);
    const offenders: string[] = [];
    for (const file of sourceFiles(dist, '.js')) {
      const rel = relative(root, file);
      if (rel.startsWith(join('dist', 'cli'))) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (isAuthjs(spec) || DRIVERS.some((d) => spec === d || spec.startsWith(`${d}/`))) {
          offenders.push(`${rel} loads ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the built broker publishers load no client until one is opened', async () => {
    const built = join(root, 'dist', 'outbox', 'brokers');
    for (const name of ['nats.js', 'amqp.js', 'redis.js']) {
      const source = readFileSync(join(built, name), 'utf8');
      expect(source, name).not.toMatch(/^import\s[^(]*from\s+['"](nats|amqplib|redis)['"]/m);
      expect(source, name).toMatch(/import\(['"](nats|amqplib|redis)['"]\)/);
    }
  });

  it('the type-only check can fail: a value import of Auth.js is caught, a type import is not', () => {
    expect(runtimeSpecifiers(`import type { Adapter } from '@auth/core/adapters';`)).toEqual([]);
    expect(runtimeSpecifiers(`import { type Adapter } from '@auth/core/adapters';`)).toEqual([]);
    expect(runtimeSpecifiers(`import { Auth } from '@auth/core';`)).toEqual(['@auth/core']);
    expect(runtimeSpecifiers(`import { type A, B } from '@auth/core';`)).toEqual(['@auth/core']);
    expect(runtimeSpecifiers(`const m = await import('@auth/core');`)).toEqual(['@auth/core']);
  });

  it('package.json has no runtime dependencies; drivers, broker clients and Auth.js are optional peers only', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const name of Object.keys(pkg.peerDependencies ?? {}))
      expect(pkg.peerDependenciesMeta?.[name]?.optional).toBe(true);
    expect(pkg.peerDependencies?.[AUTHJS]).toBeDefined();
  });

  it('the detector itself catches an import, a re-export and a dynamic import', () => {
    const source = `// import a from 'commented'\nimport pg from 'pg';\nexport { x } from "postgres";\nawait import('@electric-sql/pglite')`;
    expect(specifiers(source).sort()).toEqual(['@electric-sql/pglite', 'pg', 'postgres']);
  });
});

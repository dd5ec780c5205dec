import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const DRIVERS = ['pg', 'pg-pool', '@electric-sql/pglite', 'postgres', 'pg-native'];
const BROKER_CLIENTS = ['nats', 'amqplib', 'redis', '@redis/client'];
const BROKERS_DIR = join('src', 'outbox', 'brokers');

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
      if (rel.startsWith(join('src', 'cli')) || rel.startsWith(BROKERS_DIR)) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.') && !spec.startsWith('node:')) offenders.push(`${rel} imports ${spec}`);
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

  it('the built broker publishers load no client until one is opened', async () => {
    const built = join(root, 'dist', 'outbox', 'brokers');
    for (const name of ['nats.js', 'amqp.js', 'redis.js']) {
      const source = readFileSync(join(built, name), 'utf8');
      expect(source, name).not.toMatch(/^import\s[^(]*from\s+['"](nats|amqplib|redis)['"]/m);
      expect(source, name).toMatch(/import\(['"](nats|amqplib|redis)['"]\)/);
    }
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

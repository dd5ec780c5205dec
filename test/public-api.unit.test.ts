// The public surface, by audience: each entry point's exports against a
// reviewed list (test/fixtures/public-api.txt; regenerate with
// UPDATE_PUBLIC_API=1 and read the diff), and TSDoc on every export and on
// every public member of an exported class.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicExports, undocumentedClassMembers } from './support/api-surface.js';

const root = join(import.meta.dirname, '..');
const ENTRIES: readonly [string, string, string][] = [
  [
    'user-engine',
    'src/index.ts',
    'application code: the engine, its types, errors, the store contract, the in-memory store',
  ],
  ['user-engine/store', 'src/store/index.ts', 'store authors: unit of work, serialization, schema versions'],
  ['user-engine/postgres', 'src/postgres/index.ts', 'the Postgres store and its connection contract'],
  ['user-engine/testing', 'src/testing/index.ts', 'shared suites, fakes and helpers for proving a store'],
  ['user-engine/brokers', 'src/outbox/brokers/index.ts', 'publishers for a relay: NATS JetStream, RabbitMQ, Redis'],
  ['user-engine/authjs', 'src/authjs/index.ts', 'the Auth.js adapter and the import from @auth/pg-adapter'],
];
const SNAPSHOT = join(root, 'test', 'fixtures', 'public-api.txt');

function surfaceText(): string {
  const files = ENTRIES.map(([, file]) => join(root, file));
  const exports = publicExports(files);
  return ENTRIES.map(([entry, file, audience]) => {
    const lines = (exports.get(join(root, file)) ?? []).map((e) => `  ${e.name.padEnd(28)} ${e.kind}`);
    return `${entry} — ${audience}\n${lines.join('\n')}\n`;
  }).join('\n');
}

describe('public API', () => {
  it('each entry exports exactly the reviewed list', () => {
    const text = surfaceText();
    if (process.env.UPDATE_PUBLIC_API === '1') writeFileSync(SNAPSHOT, text);
    expect(text).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  it('lists every entry point package.json exports', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const exported = Object.keys(pkg.exports)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? 'user-engine' : `user-engine/${k.slice(2)}`));
    expect(ENTRIES.map(([entry]) => entry).sort()).toEqual(exported.sort());
  });

  it('every export and every public member of an exported class has TSDoc', () => {
    const files = ENTRIES.map(([, file]) => join(root, file));
    const undocumented = [...publicExports(files).values()]
      .flat()
      .filter((e) => !e.documented)
      .map((e) => e.name);
    expect(undocumented).toEqual([]);
    expect(undocumentedClassMembers(files)).toEqual([]);
  });
});

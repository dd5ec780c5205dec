import assert from 'node:assert/strict';
import { UserEngineError } from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import { recordKey } from '../store/record.js';
import { LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS, type SchemaVersion } from '../store/schema.js';
import type { StoreTransaction, UserEngineStore } from '../store/store.js';
import { caseInsensitiveKey, legacyEmailKey } from '../store/text-key.js';
import {
  registerSuite,
  type StoreFactory,
  type StoreHandle,
  type SuiteCase,
  type SuiteOptions,
  type TestRunner,
} from './harness.js';

type Case = SuiteCase<StoreHandle>;

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function rejectsWith(promise: Promise<unknown>, code: string, message?: string): Promise<UserEngineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(UserEngineError.is(error), `expected a UserEngineError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, message ?? `expected code ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`expected rejection with ${code}${message ? ` (${message})` : ''}`);
}

/** Every observable bit of a store, to prove that a failed call changed nothing. */
async function snapshot(store: UserEngineStore): Promise<unknown> {
  const counts = await store.recordCounts();
  const records: Record<string, unknown> = {};
  for (const kind of Object.keys(counts.records)) records[kind] = await store.listRecords(kind, { limit: 1000 });
  return {
    counts,
    records,
    audit: await store.readAudit({ limit: 1000 }),
    outbox: await store.pendingOutbox({ limit: 1000 }),
  };
}

async function create(store: UserEngineStore, kind: string, id: string, data: JsonObject): Promise<void> {
  await store.transaction(async (tx) => {
    tx.put({ kind, id, data, expectedVersion: 0 });
  });
}

/** Migrates a store of older code to the version before the first re-keying version. */
async function beforeRekey(handle: StoreHandle): Promise<{ older: UserEngineStore; rekeyed: SchemaVersion }> {
  const rekeyed = SCHEMA_VERSIONS.find((v) => v.rekey !== undefined);
  assert.ok(rekeyed, 'a schema version with a re-keying step');
  assert.ok(handle.openOlder, 'the factory declared olderCode but gave no openOlder');
  const older = handle.openOlder(SCHEMA_VERSIONS.filter((v) => v.version < rekeyed.version));
  await older.migrate();
  return { older, rekeyed };
}

/** A user record and its email index record as code before the re-keying version wrote them. */
async function writeLegacyUser(store: UserEngineStore, kind: string, user: { id: string; email: string }) {
  await store.transaction(async (tx) => {
    tx.put({ kind: 'user', id: user.id, data: { email: user.email, status: 'active' }, expectedVersion: 0 });
    tx.put({ kind, id: legacyEmailKey(user.email), data: { userId: user.id }, expectedVersion: 0 });
  });
}

function backdoor(
  write: StoreHandle['writeAppliedSchemaVersion'],
): NonNullable<StoreHandle['writeAppliedSchemaVersion']> {
  assert.ok(write, 'the factory declared schemaBackdoor but gave no writeAppliedSchemaVersion');
  return write;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Valid text that tends to break naive stores: quoting, SQL, bidi, emoji, combining marks, size. */
export const HOSTILE_TEXTS: readonly string[] = [
  `'; DROP TABLE records; --`,
  `"quoted" \\backslash\\ $1 $$dollar$$ %s %d {{x}}`,
  "E'\\x00' \\u0000 literally",
  '\u202Eright-to-left override\u202C and \u200F marks \u200B zero-width',
  '👩‍👩‍👧‍👦 🏳️‍🌈 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'e\u0301 vs é (combining vs precomposed) Å Å',
  '\t tab \n newline \r return \u0001 control \u007f del',
  'x'.repeat(30 * 1024),
];

export const conformanceCases: readonly Case[] = [
  // ----- schema readiness and migrations (SPEC §4, §5)
  {
    name: 'a new store starts at schema version 0, not ready, with every version pending',
    async run({ store }) {
      const r = await store.readiness();
      assert.equal(r.ready, false);
      assert.equal(r.currentVersion, 0);
      assert.equal(r.latestVersion, LATEST_SCHEMA_VERSION);
      assert.deepEqual(
        r.pending,
        SCHEMA_VERSIONS.map((v) => v.version),
      );
      assert.deepEqual(r.problems, []);
    },
  },
  {
    name: 'every data call rejects with schema_not_ready before migrate()',
    async run({ store }) {
      await rejectsWith(store.getRecord('note', 'a'), 'schema_not_ready');
      await rejectsWith(store.listRecords('note'), 'schema_not_ready');
      await rejectsWith(store.readAudit(), 'schema_not_ready');
      await rejectsWith(store.pendingOutbox(), 'schema_not_ready');
      await rejectsWith(store.recordCounts(), 'schema_not_ready');
      let ran = false;
      await rejectsWith(
        store.transaction(async () => {
          ran = true;
        }),
        'schema_not_ready',
      );
      assert.equal(ran, false, 'the work function must not run on a store that is not ready');
    },
  },
  {
    name: 'migrate() applies every version and leaves the store ready at LATEST_SCHEMA_VERSION',
    async run({ store }) {
      const report = await store.migrate();
      assert.deepEqual(
        report.applied,
        SCHEMA_VERSIONS.map((v) => v.version),
      );
      assert.equal(report.currentVersion, LATEST_SCHEMA_VERSION);
      const r = await store.readiness();
      assert.deepEqual(r, {
        ready: true,
        currentVersion: LATEST_SCHEMA_VERSION,
        latestVersion: LATEST_SCHEMA_VERSION,
        pending: [],
        problems: [],
      });
    },
  },
  {
    name: 'migrate() is idempotent and reports only what it applied',
    async run({ store }) {
      await store.migrate();
      const again = await store.migrate();
      assert.deepEqual(again, { applied: [], currentVersion: LATEST_SCHEMA_VERSION });
      const [a, b] = await Promise.all([store.migrate(), store.migrate()]);
      assert.deepEqual(a?.applied, []);
      assert.deepEqual(b?.applied, []);
    },
  },
  {
    name: 'a changed checksum makes readiness fail with a problem naming the version, and migrate() refuses',
    requires: 'schemaBackdoor',
    async run({ store, writeAppliedSchemaVersion }) {
      assert.ok(writeAppliedSchemaVersion, 'the factory declared schemaBackdoor but gave no writeAppliedSchemaVersion');
      await store.migrate();
      const first = SCHEMA_VERSIONS[0];
      assert.ok(first);
      await writeAppliedSchemaVersion({ ...first, checksum: 'sha256:tampered' });
      const r = await store.readiness();
      assert.equal(r.ready, false);
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0] ?? '', new RegExp(`schema version ${first.version}\\b`));
      await rejectsWith(store.migrate(), 'schema_not_ready');
      await rejectsWith(store.getRecord('note', 'a'), 'schema_not_ready');
    },
  },
  {
    name: 'a database newer than the code with only non-breaking versions is ready, and migrate() applies nothing',
    requires: 'schemaBackdoor',
    async run({ store, writeAppliedSchemaVersion }) {
      await store.migrate();
      const newer = LATEST_SCHEMA_VERSION + 1;
      await backdoor(writeAppliedSchemaVersion)({
        version: newer,
        name: 'future column',
        checksum: 'sha256:f',
        breaking: false,
      });
      const r = await store.readiness();
      assert.equal(r.ready, true, r.problems.join('; '));
      assert.equal(r.currentVersion, newer);
      assert.deepEqual(await store.migrate(), { applied: [], currentVersion: newer });
      await create(store, 'note', 'works', { ok: true });
    },
  },
  {
    name: 'a database newer than the code with a breaking version is not ready, and migrate() refuses to touch it',
    requires: 'schemaBackdoor',
    async run({ store, writeAppliedSchemaVersion }) {
      await store.migrate();
      const newer = LATEST_SCHEMA_VERSION + 1;
      await backdoor(writeAppliedSchemaVersion)({
        version: newer,
        name: 'future rename',
        checksum: 'sha256:f',
        breaking: true,
      });
      const r = await store.readiness();
      assert.equal(r.ready, false);
      assert.match(r.problems.join(' '), /newer than this code/);
      assert.match(r.problems.join(' '), /breaking/);
      const error = await rejectsWith(store.migrate(), 'schema_not_ready');
      assert.match(error.message, /breaking/);
      await rejectsWith(store.recordCounts(), 'schema_not_ready');
    },
  },
  // ----- records and serialization (SPEC §3)
  {
    name: 'a created record reads back with version 1, its key, its data and ISO millisecond timestamps',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { title: 'hello', n: 1.5, tags: ['a', 'b'], nested: { ok: true, none: null } });
      const r = await store.getRecord('note', 'n1');
      assert.ok(r);
      assert.equal(r.kind, 'note');
      assert.equal(r.id, 'n1');
      assert.equal(r.key, recordKey('note', 'n1'));
      assert.equal(r.version, 1);
      assert.deepEqual(r.data, { title: 'hello', n: 1.5, tags: ['a', 'b'], nested: { ok: true, none: null } });
      assert.match(r.createdAt, ISO_MS);
      assert.equal(r.updatedAt, r.createdAt);
    },
  },
  {
    name: 'an update bumps the version by one, keeps createdAt and moves updatedAt forward',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { v: 1 });
      const before = await store.getRecord('note', 'n1');
      await new Promise((r) => setTimeout(r, 5));
      await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'n1', data: { v: 2 }, expectedVersion: 1 });
      });
      const after = await store.getRecord('note', 'n1');
      assert.ok(before && after);
      assert.equal(after.version, 2);
      assert.deepEqual(after.data, { v: 2 });
      assert.equal(after.createdAt, before.createdAt);
      assert.ok(after.updatedAt > before.updatedAt, `${after.updatedAt} should be after ${before.updatedAt}`);
    },
  },
  {
    name: 'a delete at the current version removes the record; a stale delete conflicts',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { v: 1 });
      await rejectsWith(
        store.transaction(async (tx) => tx.delete('note', 'n1', 2)),
        'version_conflict',
      );
      assert.ok(await store.getRecord('note', 'n1'));
      await store.transaction(async (tx) => tx.delete('note', 'n1', 1));
      assert.equal(await store.getRecord('note', 'n1'), null);
      assert.deepEqual((await store.recordCounts()).records, {});
    },
  },
  {
    name: 'getRecord of an unknown record is null',
    async run({ store }) {
      await store.migrate();
      assert.equal(await store.getRecord('note', 'missing'), null);
      assert.deepEqual(await store.listRecords('note'), []);
    },
  },
  {
    name: 'records are copies: mutating what was written or what was read never changes the store',
    async run({ store }) {
      await store.migrate();
      const data = { list: [1, 2], inner: { a: 'x' } };
      await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'n1', data, expectedVersion: 0 });
        data.list.push(3);
        data.inner.a = 'changed after put';
      });
      const read = await store.getRecord('note', 'n1');
      assert.ok(read);
      assert.deepEqual(Object.keys(read.data).sort(), ['inner', 'list']);
      (read.data.list as number[]).push(99);
      read.data.extra = true;
      const [listed] = await store.listRecords('note');
      assert.deepEqual(listed?.data, { list: [1, 2], inner: { a: 'x' } });
      assert.deepEqual((await store.getRecord('note', 'n1'))?.data, { list: [1, 2], inner: { a: 'x' } });
    },
  },
  {
    name: 'invalid kinds and ids are a ValidationError before the store is touched, even when not migrated',
    async run({ store }) {
      for (const kind of ['', 'Note', '1note', 'no:te', 'x'.repeat(64), 'a b']) {
        const error = await rejectsWith(store.getRecord(kind, 'id'), 'invalid_input', `kind ${JSON.stringify(kind)}`);
        assert.equal((error as UserEngineError & { field?: string }).field, 'kind');
      }
      for (const id of ['', 'x'.repeat(257), 'a\nb', 'nul\u0000', '\uD800']) {
        await rejectsWith(store.getRecord('note', id), 'invalid_input', `id ${JSON.stringify(id)}`);
      }
      await rejectsWith(store.listRecords('Bad'), 'invalid_input');
    },
  },
  {
    name: 'values that are not plain JSON are rejected with ValidationError and nothing is written',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'keep', { ok: true });
      const before = await snapshot(store);
      class Thing {
        x = 1;
      }
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      let deep: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 16; i++) deep = { d: deep };
      const bad: unknown[] = [
        { u: undefined },
        { list: [1, undefined] },
        // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point.
        { sparse: [1, , 3] },
        { n: Number.NaN },
        { n: Number.POSITIVE_INFINITY },
        { n: 10n },
        { d: new Date(0) },
        { m: new Map() },
        { c: new Thing() },
        { f: () => 1 },
        { s: Symbol('s') },
        { [Symbol('k')]: 1 },
        cyclic,
        deep,
        { big: 'x'.repeat(64 * 1024) },
        { nul: 'a\u0000b' },
        { lone: '\uD83D' },
        { 'key\u0000': 1 },
        [1, 2],
        'text',
        null,
        new Thing(),
      ];
      for (const data of bad) {
        await rejectsWith(
          store.transaction(async (tx) => {
            tx.put({ kind: 'note', id: 'bad', data: data as JsonObject, expectedVersion: 0 });
          }),
          'invalid_input',
          `data ${String(data)}`,
        );
      }
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'data at the limits is accepted: 16 levels deep and 64 KiB of canonical JSON',
    async run({ store }) {
      await store.migrate();
      let deep: JsonObject = { leaf: true };
      for (let i = 0; i < 15; i++) deep = { d: deep };
      await create(store, 'note', 'deep', deep);
      assert.deepEqual((await store.getRecord('note', 'deep'))?.data, deep);
      const overhead = '{"s":""}'.length;
      const big = { s: 'é'.repeat((64 * 1024 - overhead) / 2) };
      await create(store, 'note', 'big', big);
      assert.deepEqual((await store.getRecord('note', 'big'))?.data, big);
      await rejectsWith(create(store, 'note', 'bigger', { s: `${big.s}x` }), 'invalid_input');
    },
  },
  {
    name: 'hostile but valid text is stored exactly in data, keys, ids, audit and outbox',
    async run({ store }) {
      await store.migrate();
      const data: JsonObject = {};
      HOSTILE_TEXTS.forEach((text, i) => {
        data[`v${i}`] = text;
      });
      const shortTexts = HOSTILE_TEXTS.filter((t) => t.length < 200);
      shortTexts.forEach((text, i) => {
        data[text] = i;
      });
      const ids = [`'; DROP TABLE x; --`, '👩‍👩‍👧 \u202Eabc', 'e\u0301', `"q"\\`];
      await store.transaction(async (tx) => {
        for (const id of ids) tx.put({ kind: 'note', id, data, expectedVersion: 0 });
        tx.appendAudit({
          actor: `actor '"; --`,
          action: 'note.hostile',
          recordKey: recordKey('note', ids[0] ?? ''),
          detail: data,
        });
        tx.enqueueOutbox({ topic: 'note.hostile', key: ids[1] ?? '', payload: data });
      });
      for (const id of ids) {
        const r = await store.getRecord('note', id);
        assert.ok(r, `record ${JSON.stringify(id)}`);
        assert.equal(r.id, id);
        assert.deepEqual(r.data, data);
      }
      const [entry] = await store.readAudit();
      assert.equal(entry?.actor, `actor '"; --`);
      assert.deepEqual(entry?.detail, data);
      const [message] = await store.pendingOutbox();
      assert.equal(message?.key, ids[1]);
      assert.deepEqual(message?.payload, data);
    },
  },
  {
    name: 'listRecords pages by id in code point order with a keyset cursor, never mixing kinds',
    async run({ store }) {
      await store.migrate();
      // Upper case, accents and astral characters: a collation other than code point order would reorder them.
      const ids = ['b', 'a', 'B', 'é', 'z', '\uFFFD', '😀', 'aa', 'a-1', '_', '10', '9'];
      await store.transaction(async (tx) => {
        for (const id of ids) tx.put({ kind: 'note', id, data: { id }, expectedVersion: 0 });
        tx.put({ kind: 'other', id: 'a', data: {}, expectedVersion: 0 });
      });
      const expected = ['10', '9', 'B', '_', 'a', 'a-1', 'aa', 'b', 'z', 'é', '\uFFFD', '😀'];
      const all = await store.listRecords('note');
      assert.deepEqual(
        all.map((r) => r.id),
        expected,
      );
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listRecords('note', after === undefined ? { limit: 5 } : { after, limit: 5 });
        if (page.length === 0) break;
        assert.ok(page.length <= 5);
        seen.push(...page.map((r) => r.id));
        after = page[page.length - 1]?.id;
      }
      assert.deepEqual(seen, expected);
      assert.deepEqual(
        (await store.listRecords('note', { after: 'a' })).map((r) => r.id),
        expected.slice(5),
      );
    },
  },
  {
    name: 'page limits default to 100, allow 1000, and reject 0, 1001, fractions and non-numbers',
    async run({ store }) {
      await store.migrate();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 120; i++)
          tx.put({ kind: 'note', id: `n${String(i).padStart(3, '0')}`, data: {}, expectedVersion: 0 });
      });
      assert.equal((await store.listRecords('note')).length, 100);
      assert.equal((await store.listRecords('note', { limit: 1000 })).length, 120);
      for (const limit of [0, 1001, 1.5, -1, Number.NaN, '5' as unknown as number]) {
        await rejectsWith(store.listRecords('note', { limit }), 'invalid_input', `limit ${String(limit)}`);
        await rejectsWith(store.readAudit({ limit }), 'invalid_input');
        await rejectsWith(store.pendingOutbox({ limit }), 'invalid_input');
      }
      await rejectsWith(store.readAudit({ afterSeq: -1 }), 'invalid_input');
      await rejectsWith(store.pendingOutbox({ afterSeq: 0.5 }), 'invalid_input');
      await rejectsWith(store.readAudit({ recordKey: 'not a key' }), 'invalid_input');
    },
  },
  {
    name: 'getIndexedRecord follows an index record to its target in one read, and is null when either is missing',
    requires: 'indexedRecord',
    async run({ store }) {
      await store.migrate();
      const lookup = store.getIndexedRecord?.bind(store);
      assert.ok(lookup, 'the factory declared indexedRecord but the store has no getIndexedRecord');
      await store.transaction(async (tx) => {
        tx.put({ kind: 'person', id: 'p1', data: { name: 'Ada' }, expectedVersion: 0 });
        tx.put({ kind: 'person-email', id: 'ada@example.com', data: { personId: 'p1' }, expectedVersion: 0 });
        tx.put({ kind: 'person-email', id: 'ghost@example.com', data: { personId: 'p404' }, expectedVersion: 0 });
        tx.put({ kind: 'person-email', id: 'odd@example.com', data: { personId: 7 }, expectedVersion: 0 });
      });
      const found = await lookup(
        { kind: 'person-email', id: 'ada@example.com' },
        { kind: 'person', field: 'personId' },
      );
      assert.deepEqual(found, await store.getRecord('person', 'p1'));
      assert.equal(
        await lookup({ kind: 'person-email', id: 'nobody@example.com' }, { kind: 'person', field: 'personId' }),
        null,
      );
      assert.equal(
        await lookup({ kind: 'person-email', id: 'ghost@example.com' }, { kind: 'person', field: 'personId' }),
        null,
      );
      assert.equal(
        await lookup({ kind: 'person-email', id: 'odd@example.com' }, { kind: 'person', field: 'personId' }),
        null,
      );
      assert.equal(
        await lookup({ kind: 'person-email', id: 'ada@example.com' }, { kind: 'person', field: 'other' }),
        null,
      );
      await rejectsWith(lookup({ kind: 'Bad', id: 'x' }, { kind: 'person', field: 'personId' }), 'invalid_input');
      await rejectsWith(
        lookup({ kind: 'person-email', id: 'x' }, { kind: 'person', field: "a'; --" }),
        'invalid_input',
      );
    },
  },
  // ----- unit of work (SPEC §4)
  {
    name: 'reads inside a transaction see its own writes; other readers see nothing until commit',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'old', { v: 1 });
      await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'new', data: { v: 1 }, expectedVersion: 0 });
        tx.put({ kind: 'note', id: 'old', data: { v: 2 }, expectedVersion: 1 });
        tx.delete('note', 'old', 2);
        const fresh = await tx.get('note', 'new');
        assert.equal(fresh?.version, 1);
        assert.deepEqual(fresh?.data, { v: 1 });
        assert.equal(await tx.get('note', 'old'), null);
        assert.equal(await store.getRecord('note', 'new'), null, 'not visible outside before commit');
        assert.equal((await store.getRecord('note', 'old'))?.version, 1);
      });
      assert.equal((await store.getRecord('note', 'new'))?.version, 1);
      assert.equal(await store.getRecord('note', 'old'), null);
    },
  },
  {
    name: 'a work function that throws applies nothing and its error comes out unchanged',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'keep', { v: 1 });
      const before = await snapshot(store);
      const thrown = new TypeError('boom from work');
      try {
        await store.transaction(async (tx) => {
          tx.put({ kind: 'note', id: 'x', data: {}, expectedVersion: 0 });
          tx.put({ kind: 'note', id: 'keep', data: { v: 2 }, expectedVersion: 1 });
          tx.appendAudit({ actor: 'a', action: 'note.x', recordKey: null, detail: {} });
          tx.enqueueOutbox({ topic: 'note.x', key: 'x', payload: {} });
          throw thrown;
        });
        assert.fail('should have thrown');
      } catch (error) {
        assert.equal(error, thrown);
      }
      const notAnError = { reason: 'plain object' };
      await assert.rejects(
        store.transaction(async () => {
          throw notAnError;
        }),
        (e) => e === notAnError,
      );
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'the transaction resolves to what the work function returned',
    async run({ store }) {
      await store.migrate();
      const result = await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'n', data: {}, expectedVersion: 0 });
        return { answer: 42 };
      });
      assert.deepEqual(result, { answer: 42 });
      assert.equal(await store.transaction(async () => undefined), undefined);
    },
  },
  {
    name: 'creating a record that exists conflicts, naming its kind but never its id, and applies no audit or outbox',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { v: 1 });
      const before = await snapshot(store);
      const error = await rejectsWith(
        store.transaction(async (tx) => {
          tx.put({ kind: 'note', id: 'n1', data: { v: 'dup' }, expectedVersion: 0 });
          tx.appendAudit({ actor: 'a', action: 'note.created', recordKey: 'note:n1', detail: {} });
          tx.enqueueOutbox({ topic: 'note.created', key: 'n1', payload: {} });
        }),
        'version_conflict',
      );
      // Record ids can be personal values (an email index record's id is the address): never in errors.
      assert.equal((error as UserEngineError & { kind?: string }).kind, 'note');
      assert.ok(!JSON.stringify({ ...error, message: error.message }).includes('n1'), 'the id is not in the error');
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'an update at a stale expected version conflicts and changes nothing',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { v: 1 });
      await store.transaction(async (tx) => tx.put({ kind: 'note', id: 'n1', data: { v: 2 }, expectedVersion: 1 }));
      const before = await snapshot(store);
      await rejectsWith(
        store.transaction(async (tx) => tx.put({ kind: 'note', id: 'n1', data: { v: 'stale' }, expectedVersion: 1 })),
        'version_conflict',
      );
      await rejectsWith(
        store.transaction(async (tx) => tx.put({ kind: 'note', id: 'ghost', data: {}, expectedVersion: 3 })),
        'version_conflict',
      );
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'a conflict on the last of several writes applies no record, audit entry or outbox message',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'taken', { v: 1 });
      const before = await snapshot(store);
      await rejectsWith(
        store.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) tx.put({ kind: 'note', id: `fresh-${i}`, data: { i }, expectedVersion: 0 });
          tx.appendAudit({ actor: 'a', action: 'note.batch', recordKey: null, detail: {} });
          tx.enqueueOutbox({ topic: 'note.batch', key: 'k', payload: {} });
          tx.put({ kind: 'other', id: 'x', data: {}, expectedVersion: 0 });
          tx.put({ kind: 'note', id: 'taken', data: { v: 2 }, expectedVersion: 7 });
        }),
        'version_conflict',
      );
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'a record read and then changed by another commit fails the transaction (read-set validation)',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'watched', { v: 1 });
      const before = { counts: await store.recordCounts() };
      await rejectsWith(
        store.transaction(async (tx) => {
          const seen = await tx.get('note', 'watched');
          assert.equal(seen?.version, 1);
          await store.transaction(async (other) =>
            other.put({ kind: 'note', id: 'watched', data: { v: 2 }, expectedVersion: 1 }),
          );
          tx.put({ kind: 'note', id: 'derived', data: { from: 1 }, expectedVersion: 0 });
          tx.appendAudit({ actor: 'a', action: 'note.derived', recordKey: null, detail: {} });
        }),
        'version_conflict',
      );
      assert.equal(await store.getRecord('note', 'derived'), null);
      const counts = await store.recordCounts();
      assert.deepEqual(counts.records, before.counts.records);
      assert.equal(counts.audit, before.counts.audit);
    },
  },
  {
    name: 'a record read as absent and then created by another commit fails the transaction',
    async run({ store }) {
      await store.migrate();
      await rejectsWith(
        store.transaction(async (tx) => {
          assert.equal(await tx.get('note', 'late'), null);
          await create(store, 'note', 'late', { by: 'other' });
          tx.put({ kind: 'note', id: 'mine', data: {}, expectedVersion: 0 });
        }),
        'version_conflict',
      );
      assert.equal(await store.getRecord('note', 'mine'), null);
      assert.deepEqual((await store.getRecord('note', 'late'))?.data, { by: 'other' });
    },
  },
  {
    name: 'a record read and deleted by another commit fails the transaction',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'gone', { v: 1 });
      await rejectsWith(
        store.transaction(async (tx) => {
          await tx.get('note', 'gone');
          await store.transaction(async (other) => other.delete('note', 'gone', 1));
          tx.enqueueOutbox({ topic: 'note.seen', key: 'gone', payload: {} });
        }),
        'version_conflict',
      );
      assert.equal((await store.recordCounts()).outboxPending, 0);
    },
  },
  {
    name: 'N concurrent creates of one key give exactly one success and N-1 version conflicts',
    async run({ store }) {
      await store.migrate();
      const n = 12;
      const outcomes = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          store.transaction(async (tx) => {
            // Whether a create reads first or not, the commit decides; a reader that sees the winner fails early.
            if (i % 2 === 0) await tx.get('note', 'contested');
            tx.put({ kind: 'note', id: 'contested', data: { winner: i }, expectedVersion: 0 });
            tx.appendAudit({ actor: `w${i}`, action: 'note.created', recordKey: 'note:contested', detail: { i } });
            tx.enqueueOutbox({ topic: 'note.created', key: 'contested', payload: { i } });
            return i;
          }),
        ),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(won.length, 1, 'exactly one create wins');
      for (const o of lost) assert.ok(UserEngineError.is(o.reason, 'version_conflict'), String(o.reason));
      const record = await store.getRecord('note', 'contested');
      assert.equal(record?.version, 1);
      assert.deepEqual(record?.data, { winner: (won[0] as PromiseFulfilledResult<number>).value });
      const counts = await store.recordCounts();
      assert.equal(counts.audit, 1);
      assert.equal(counts.outboxPending, 1);
    },
  },
  {
    name: 'write skew is prevented: two transactions that each read two records and write one cannot both commit',
    async run({ store }) {
      await store.migrate();
      await store.transaction(async (tx) => {
        tx.put({ kind: 'shift', id: 'alice', data: { onCall: true }, expectedVersion: 0 });
        tx.put({ kind: 'shift', id: 'bob', data: { onCall: true }, expectedVersion: 0 });
      });
      // Each goes off call only if the other is still on call; both read both before either commits.
      let reads = 0;
      const bothRead = deferred();
      const goOffCall = (me: string, other: string) =>
        store.transaction(async (tx) => {
          const mine = await tx.get('shift', me);
          const theirs = await tx.get('shift', other);
          reads += 1;
          if (reads === 2) bothRead.resolve();
          await bothRead.promise;
          if (theirs?.data.onCall === true && mine) {
            tx.put({ kind: 'shift', id: me, data: { onCall: false }, expectedVersion: mine.version });
          }
        });
      const outcomes = await Promise.allSettled([goOffCall('alice', 'bob'), goOffCall('bob', 'alice')]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one may go off call');
      for (const o of outcomes)
        if (o.status === 'rejected') assert.ok(UserEngineError.is(o.reason, 'version_conflict'));
      const onCall = (await store.listRecords('shift')).filter((r) => r.data.onCall === true);
      assert.equal(onCall.length, 1, 'someone is still on call');
    },
  },
  {
    name: 'N concurrent updates at one version give exactly one success',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'counter', { n: 0 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.transaction(async (tx) =>
            tx.put({ kind: 'note', id: 'counter', data: { n: i + 1 }, expectedVersion: 1 }),
          ),
        ),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      assert.equal((await store.getRecord('note', 'counter'))?.version, 2);
    },
  },
  {
    name: 'no lock is held while work awaits: a work function may read the store and run another transaction',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'a', { v: 1 });
      const result = await store.transaction(async (tx) => {
        const outside = await store.getRecord('note', 'a');
        await store.transaction(async (inner) => inner.put({ kind: 'note', id: 'b', data: {}, expectedVersion: 0 }));
        const counts = await store.recordCounts();
        tx.put({ kind: 'note', id: 'c', data: {}, expectedVersion: 0 });
        return [outside?.version, counts.records.note];
      });
      assert.deepEqual(result, [1, 2]);
      assert.equal((await store.recordCounts()).records.note, 3);
    },
  },
  {
    name: 'several writes to one key in a transaction chain their versions',
    async run({ store }) {
      await store.migrate();
      await store
        .transaction(async (tx) => {
          tx.put({ kind: 'note', id: 'n', data: { v: 1 }, expectedVersion: 0 });
          tx.put({ kind: 'note', id: 'n', data: { v: 2 }, expectedVersion: 1 });
          assert.equal((await tx.get('note', 'n'))?.version, 2);
          assert.throws(
            () => tx.put({ kind: 'note', id: 'n', data: {}, expectedVersion: 1 }),
            (e) => UserEngineError.is(e, 'version_conflict'),
          );
        })
        .catch((e: unknown) => {
          throw e;
        });
      const r = await store.getRecord('note', 'n');
      assert.equal(r?.version, 2);
      assert.deepEqual(r?.data, { v: 2 });
      // Create-then-delete in one transaction leaves nothing, but still needs the key to be absent.
      await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'temp', data: {}, expectedVersion: 0 });
        tx.delete('note', 'temp', 1);
      });
      assert.equal(await store.getRecord('note', 'temp'), null);
    },
  },
  {
    name: 'bad arguments to put, delete, appendAudit and enqueueOutbox throw ValidationError at the call',
    async run({ store }) {
      await store.migrate();
      const before = await snapshot(store);
      const calls: ((tx: StoreTransaction) => void)[] = [
        (tx) => tx.put({ kind: 'note', id: 'n', data: {}, expectedVersion: -1 }),
        (tx) => tx.put({ kind: 'note', id: 'n', data: {}, expectedVersion: 1.5 }),
        (tx) => tx.put({ kind: 'Note', id: 'n', data: {}, expectedVersion: 0 }),
        (tx) => tx.delete('note', 'n', 0),
        (tx) => tx.appendAudit({ actor: '', action: 'a.b', recordKey: null, detail: {} }),
        (tx) => tx.appendAudit({ actor: 'a', action: 'Bad Action', recordKey: null, detail: {} }),
        (tx) => tx.appendAudit({ actor: 'a', action: 'a.b', recordKey: 'nokey', detail: {} }),
        (tx) => tx.appendAudit({ actor: 'a', action: 'a.b', recordKey: null, detail: [] as unknown as JsonObject }),
        (tx) => tx.enqueueOutbox({ topic: '', key: 'k', payload: {} }),
        (tx) => tx.enqueueOutbox({ topic: 't.x', key: '', payload: {} }),
        (tx) => tx.enqueueOutbox({ topic: 't.x', key: 'k', payload: { n: Number.NaN } }),
      ];
      for (const call of calls) {
        await rejectsWith(
          store.transaction(async (tx) => {
            tx.put({ kind: 'note', id: 'ok', data: {}, expectedVersion: 0 });
            assert.throws(
              () => call(tx),
              (e) => UserEngineError.is(e, 'invalid_input'),
            );
            call(tx);
          }),
          'invalid_input',
        );
      }
      assert.deepEqual(await snapshot(store), before);
    },
  },
  {
    name: 'a transaction object cannot be used after its transaction finished',
    async run({ store }) {
      await store.migrate();
      let kept: StoreTransaction | undefined;
      await store.transaction(async (tx) => {
        kept = tx;
      });
      assert.ok(kept);
      const tx = kept;
      assert.throws(() => tx.put({ kind: 'note', id: 'late', data: {}, expectedVersion: 0 }));
      assert.equal(await store.getRecord('note', 'late'), null);
    },
  },
  // ----- audit and outbox (SPEC §4)
  {
    name: 'audit entries read back in order with every field, seq ascending, at in ISO milliseconds',
    async run({ store }) {
      await store.migrate();
      await store.transaction(async (tx) => {
        tx.put({ kind: 'note', id: 'n1', data: {}, expectedVersion: 0 });
        tx.appendAudit({ actor: 'alice', action: 'note.created', recordKey: 'note:n1', detail: { fields: ['x'] } });
        tx.appendAudit({ actor: 'system', action: 'note.indexed', recordKey: null, detail: {} });
      });
      const entries = await store.readAudit();
      assert.equal(entries.length, 2);
      const [a, b] = entries;
      assert.ok(a && b);
      assert.ok(a.seq >= 1 && b.seq > a.seq);
      assert.equal(typeof a.seq, 'number');
      assert.match(a.id, /^[0-9a-f-]{36}$/);
      assert.notEqual(a.id, b.id);
      assert.match(a.at, ISO_MS);
      assert.deepEqual(
        { actor: a.actor, action: a.action, recordKey: a.recordKey, detail: a.detail },
        { actor: 'alice', action: 'note.created', recordKey: 'note:n1', detail: { fields: ['x'] } },
      );
      assert.equal(b.recordKey, null);
    },
  },
  {
    name: 'readAudit filters by afterSeq, limit and recordKey',
    async run({ store }) {
      await store.migrate();
      for (let i = 0; i < 6; i++) {
        await store.transaction(async (tx) => {
          tx.appendAudit({ actor: 'a', action: 'note.touched', recordKey: `note:n${i % 2}`, detail: { i } });
        });
      }
      const all = await store.readAudit();
      assert.equal(all.length, 6);
      const third = all[2];
      assert.ok(third);
      assert.deepEqual(
        (await store.readAudit({ afterSeq: third.seq })).map((e) => e.detail.i),
        [3, 4, 5],
      );
      assert.deepEqual(
        (await store.readAudit({ limit: 2 })).map((e) => e.detail.i),
        [0, 1],
      );
      assert.deepEqual(
        (await store.readAudit({ recordKey: 'note:n1' })).map((e) => e.detail.i),
        [1, 3, 5],
      );
      assert.deepEqual(
        (await store.readAudit({ recordKey: 'note:n1', afterSeq: third.seq, limit: 1 })).map((e) => e.detail.i),
        [3],
      );
    },
  },
  {
    name: 'pending outbox messages read back in order with every field, by afterSeq and limit',
    async run({ store }) {
      await store.migrate();
      for (let i = 0; i < 4; i++) {
        await store.transaction(async (tx) => {
          tx.enqueueOutbox({ topic: 'note.created', key: `n${i}`, payload: { i } });
        });
      }
      const all = await store.pendingOutbox();
      assert.deepEqual(
        all.map((m) => [m.topic, m.key, m.payload]),
        [0, 1, 2, 3].map((i) => ['note.created', `n${i}`, { i }]),
      );
      for (const m of all) {
        assert.match(m.createdAt, ISO_MS);
        assert.match(m.id, /^[0-9a-f-]{36}$/);
      }
      const second = all[1];
      assert.ok(second);
      assert.deepEqual(
        (await store.pendingOutbox({ afterSeq: second.seq, limit: 1 })).map((m) => m.key),
        ['n2'],
      );
    },
  },
  {
    name: 'audit and outbox seq follow commit order, not the order transactions began',
    async run({ store }) {
      await store.migrate();
      const gate = deferred();
      const slow = store.transaction(async (tx) => {
        await gate.promise;
        tx.appendAudit({ actor: 'slow', action: 'note.x', recordKey: null, detail: {} });
        tx.enqueueOutbox({ topic: 'note.x', key: 'slow', payload: {} });
      });
      await store.transaction(async (tx) => {
        tx.appendAudit({ actor: 'fast', action: 'note.x', recordKey: null, detail: {} });
        tx.enqueueOutbox({ topic: 'note.x', key: 'fast', payload: {} });
      });
      gate.resolve();
      await slow;
      assert.deepEqual(
        (await store.readAudit()).map((e) => e.actor),
        ['fast', 'slow'],
      );
      assert.deepEqual(
        (await store.pendingOutbox()).map((m) => m.key),
        ['fast', 'slow'],
      );
    },
  },
  {
    name: 'readAudit and pendingOutbox default to 100 entries and page to the end',
    async run({ store }) {
      await store.migrate();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 150; i++) {
          tx.appendAudit({ actor: 'a', action: 'note.bulk', recordKey: null, detail: { i } });
          tx.enqueueOutbox({ topic: 'note.bulk', key: 'k', payload: { i } });
        }
      });
      const firstPage = await store.readAudit();
      assert.equal(firstPage.length, 100);
      const rest = await store.readAudit({ afterSeq: firstPage[99]?.seq ?? 0 });
      assert.equal(rest.length, 50);
      assert.equal(rest[49]?.detail.i, 149);
      assert.equal((await store.pendingOutbox()).length, 100);
      assert.equal((await store.pendingOutbox({ limit: 1000 })).length, 150);
    },
  },
  // ----- counts (SPEC §4)
  {
    name: 'recordCounts is numbers only, kinds sorted, kinds of zero omitted',
    async run({ store }) {
      await store.migrate();
      assert.deepEqual(await store.recordCounts(), { records: {}, audit: 0, outboxPending: 0 });
      await store.transaction(async (tx) => {
        tx.put({ kind: 'zeta', id: 'secret-id-1', data: { email: 'secret@example.com' }, expectedVersion: 0 });
        tx.put({ kind: 'alpha', id: 'secret-id-2', data: {}, expectedVersion: 0 });
        tx.put({ kind: 'alpha', id: 'secret-id-3', data: {}, expectedVersion: 0 });
        tx.put({ kind: 'mid', id: 'secret-id-4', data: {}, expectedVersion: 0 });
        tx.appendAudit({ actor: 'a', action: 'x.y', recordKey: null, detail: {} });
        tx.enqueueOutbox({ topic: 'x.y', key: 'k', payload: {} });
      });
      await store.transaction(async (tx) => tx.delete('mid', 'secret-id-4', 1));
      const counts = await store.recordCounts();
      assert.deepEqual(counts, { records: { alpha: 2, zeta: 1 }, audit: 1, outboxPending: 1 });
      assert.deepEqual(Object.keys(counts.records), ['alpha', 'zeta']);
      assert.doesNotMatch(JSON.stringify(counts), /secret/);
    },
  },
  {
    name: 'the same history gives the same counts on every store',
    async run({ store }) {
      await store.migrate();
      for (let i = 0; i < 5; i++) {
        await store.transaction(async (tx) => {
          tx.put({ kind: 'user', id: `u${i}`, data: { i }, expectedVersion: 0 });
          tx.put({ kind: 'user-email', id: `e${i}`, data: { userId: `u${i}` }, expectedVersion: 0 });
          tx.appendAudit({ actor: 'a', action: 'user.registered', recordKey: `user:u${i}`, detail: {} });
          tx.enqueueOutbox({ topic: 'user.registered', key: `u${i}`, payload: {} });
        });
      }
      await store.transaction(async (tx) => tx.delete('user-email', 'e0', 1));
      await store.transaction(async (tx) => tx.put({ kind: 'user', id: 'u1', data: {}, expectedVersion: 1 }));
      assert.deepEqual(await store.recordCounts(), {
        records: { user: 5, 'user-email': 4 },
        audit: 5,
        outboxPending: 5,
      });
    },
  },
  // ----- data migrations (schema versions with a re-keying step)
  {
    name: 'a re-keying version moves records written by older code to their new ids, keeping versions, data and times',
    requires: 'olderCode',
    async run(handle) {
      const { older, rekeyed } = await beforeRekey(handle);
      // What code before the version wrote: a user and its email index record under the old key.
      const users = [
        { id: 'u-sharp-s', email: 'Straße@example.com' },
        { id: 'u-wide', email: 'ＡＤＡ@example.com' },
        { id: 'u-plain', email: 'plain@example.com' },
      ];
      for (const user of users) await writeLegacyUser(older, rekeyed.rekey?.kind ?? '', user);
      const before = await older.getRecord(rekeyed.rekey?.kind ?? '', legacyEmailKey(users[0]?.email ?? ''));
      const report = await handle.store.migrate();
      assert.deepEqual(report.applied, [rekeyed.version]);
      const kind = rekeyed.rekey?.kind ?? '';
      for (const user of users) {
        const moved = await handle.store.getRecord(kind, caseInsensitiveKey(user.email));
        assert.equal(moved?.data.userId, user.id, `${user.id}: found under its new key`);
        if (caseInsensitiveKey(user.email) !== legacyEmailKey(user.email)) {
          assert.equal(
            await handle.store.getRecord(kind, legacyEmailKey(user.email)),
            null,
            `${user.id}: old key gone`,
          );
        }
      }
      const after = await handle.store.getRecord(kind, 'strasse@example.com');
      assert.deepEqual(
        { version: after?.version, data: after?.data, createdAt: after?.createdAt, updatedAt: after?.updatedAt },
        { version: before?.version, data: before?.data, createdAt: before?.createdAt, updatedAt: before?.updatedAt },
      );
      assert.deepEqual((await handle.store.recordCounts()).records, { [kind]: 3, user: 3 });
    },
  },
  {
    name: 'a re-keying version refuses when two users would share a key, naming the users and no value, and changes nothing',
    requires: 'olderCode',
    async run(handle) {
      const { older, rekeyed } = await beforeRekey(handle);
      const kind = rekeyed.rekey?.kind ?? '';
      await writeLegacyUser(older, kind, { id: 'u-first', email: 'straße@example.org' });
      await writeLegacyUser(older, kind, { id: 'u-second', email: 'STRASSE@example.org' });
      const before = await snapshot(older);
      const error = await rejectsWith(handle.store.migrate(), 'schema_not_ready');
      assert.match(error.message, /u-first and u-second/);
      assert.ok(!/stra|example/i.test(error.message), 'no address in the report');
      assert.deepEqual(await snapshot(older), before);
      assert.equal((await handle.store.readiness()).currentVersion, rekeyed.version - 1);
    },
  },
  // ----- lifecycle
  {
    name: 'after close() every call rejects with store_unavailable',
    async run({ store }) {
      await store.migrate();
      await store.close();
      await rejectsWith(store.getRecord('note', 'a'), 'store_unavailable');
      await rejectsWith(store.readiness(), 'store_unavailable');
      await rejectsWith(
        store.transaction(async () => undefined),
        'store_unavailable',
      );
    },
  },
];

/**
 * Registers the store conformance suite with a test runner: one test per
 * case, each on a fresh store from `factory`, torn down afterwards.
 *
 * @example
 * import { describe, it } from 'vitest';
 * runStoreConformance({ describe, it }, 'postgres', async () => ({ store: makeStore(), teardown }));
 */
export function runStoreConformance(
  runner: TestRunner,
  storeName: string,
  factory: StoreFactory,
  options: SuiteOptions = {},
): void {
  registerSuite(
    runner,
    `store conformance [${storeName}]`,
    conformanceCases,
    async () => {
      const handle = await factory();
      return { context: handle, teardown: async () => handle.teardown?.() };
    },
    options,
  );
}

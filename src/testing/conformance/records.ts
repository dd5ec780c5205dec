import assert from 'node:assert/strict';
import type { UserEngineError } from '../../store/errors.js';
import type { JsonObject } from '../../store/json.js';
import { recordKey } from '../../store/record.js';
import { rejectsWith } from '../assertions.js';
import { dumpStore } from '../read-all.js';
import { type Case, create, HOSTILE_TEXTS, ISO_MS } from './support.js';

/** Conformance: records and serialization (SPEC §3). */
export const recordCases: readonly Case[] = [
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
      const before = await dumpStore(store);
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
      assert.deepEqual(await dumpStore(store), before);
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
  {
    name: 'getIndexedPair returns the index record and its target as getRecord reads them, and is null when either is missing',
    requires: 'indexedPair',
    async run({ store }) {
      await store.migrate();
      const pair = store.getIndexedPair?.bind(store);
      assert.ok(pair, 'the factory declared indexedPair but the store has no getIndexedPair');
      const target = { kind: 'person', field: 'personId' };
      await store.transaction(async (tx) => {
        tx.put({ kind: 'person', id: 'p1', data: { name: 'Ada' }, expectedVersion: 0 });
        tx.put({ kind: 'grant', id: 'g1', data: { personId: 'p1', until: '2030-01-01' }, expectedVersion: 0 });
        tx.put({ kind: 'grant', id: 'ghost', data: { personId: 'p404' }, expectedVersion: 0 });
        tx.put({ kind: 'grant', id: 'odd', data: { personId: ['p1'] }, expectedVersion: 0 });
      });
      // The index record moves on (version 2); the pair reads it as it is now.
      await store.transaction(async (tx) => {
        tx.put({ kind: 'grant', id: 'g1', data: { personId: 'p1', until: '2031-01-01' }, expectedVersion: 1 });
      });
      const found = await pair({ kind: 'grant', id: 'g1' }, target);
      assert.deepEqual(found, {
        index: await store.getRecord('grant', 'g1'),
        target: await store.getRecord('person', 'p1'),
      });
      assert.equal(found?.index.version, 2);
      assert.equal(found?.index.data.until, '2031-01-01');
      assert.equal(await pair({ kind: 'grant', id: 'none' }, target), null);
      assert.equal(await pair({ kind: 'grant', id: 'ghost' }, target), null);
      assert.equal(await pair({ kind: 'grant', id: 'odd' }, target), null);
      assert.equal(await pair({ kind: 'grant', id: 'g1' }, { kind: 'person', field: 'other' }), null);
      assert.equal(await pair({ kind: 'grant', id: 'g1' }, { kind: 'place', field: 'personId' }), null);
      await rejectsWith(pair({ kind: 'grant', id: '' }, target), 'invalid_input');
      await rejectsWith(pair({ kind: 'grant', id: 'g1' }, { kind: 'person', field: 'a b' }), 'invalid_input');
    },
  },
];

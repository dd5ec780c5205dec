import assert from 'node:assert/strict';
import { deferred } from '../assertions.js';
import { type Case, ISO_MS } from './support.js';

/** Conformance: the audit log and the outbox: order, paging, fields (SPEC §4). */
export const auditOutboxCases: readonly Case[] = [
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
];

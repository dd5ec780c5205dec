import assert from 'node:assert/strict';
import type { Case } from './support.js';

/** Conformance: redacted, adapter-neutral counts (SPEC §4). */
export const countCases: readonly Case[] = [
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
];

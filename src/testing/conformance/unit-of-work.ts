import assert from 'node:assert/strict';
import { UserEngineError } from '../../store/errors.js';
import type { JsonObject } from '../../store/json.js';
import type { StoreTransaction } from '../../store/store.js';
import { deferred, rejectsWith } from '../assertions.js';
import { dumpStore } from '../read-all.js';
import { type Case, create } from './support.js';

/** Conformance: the unit of work: atomicity, optimistic concurrency, read-set validation (SPEC §4). */
export const unitOfWorkCases: readonly Case[] = [
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
      const before = await dumpStore(store);
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
      assert.deepEqual(await dumpStore(store), before);
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
      const before = await dumpStore(store);
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
      assert.deepEqual(await dumpStore(store), before);
    },
  },
  {
    name: 'an update at a stale expected version conflicts and changes nothing',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'n1', { v: 1 });
      await store.transaction(async (tx) => tx.put({ kind: 'note', id: 'n1', data: { v: 2 }, expectedVersion: 1 }));
      const before = await dumpStore(store);
      await rejectsWith(
        store.transaction(async (tx) => tx.put({ kind: 'note', id: 'n1', data: { v: 'stale' }, expectedVersion: 1 })),
        'version_conflict',
      );
      await rejectsWith(
        store.transaction(async (tx) => tx.put({ kind: 'note', id: 'ghost', data: {}, expectedVersion: 3 })),
        'version_conflict',
      );
      assert.deepEqual(await dumpStore(store), before);
    },
  },
  {
    name: 'a conflict on the last of several writes applies no record, audit entry or outbox message',
    async run({ store }) {
      await store.migrate();
      await create(store, 'note', 'taken', { v: 1 });
      const before = await dumpStore(store);
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
      assert.deepEqual(await dumpStore(store), before);
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
      const before = await dumpStore(store);
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
      assert.deepEqual(await dumpStore(store), before);
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
];

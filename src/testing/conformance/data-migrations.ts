import assert from 'node:assert/strict';
import { SCHEMA_VERSIONS } from '../../store/schema.js';
import { caseInsensitiveKey, legacyEmailKey } from '../../store/text-key.js';
import { rejectsWith } from '../assertions.js';
import { beforeRekey, type Case, writeLegacyUser } from './support.js';

/** Conformance: data migrations: schema versions with a re-keying step. */
export const dataMigrationCases: readonly Case[] = [
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
      assert.deepEqual(
        report.applied,
        SCHEMA_VERSIONS.filter((v) => v.version >= rekeyed.version).map((v) => v.version),
      );
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
      // What the older code's tables hold (its records and audit; the older code predates delivery).
      const tables = async () =>
        JSON.stringify([await older.listRecords('user'), await older.listRecords(kind), await older.readAudit()]);
      const before = await tables();
      const error = await rejectsWith(handle.store.migrate(), 'schema_not_ready');
      assert.match(error.message, /u-first and u-second/);
      assert.ok(!/stra|example/i.test(error.message), 'no address in the report');
      assert.equal(await tables(), before);
      assert.equal((await handle.store.readiness()).currentVersion, rekeyed.version - 1);
    },
  },
];

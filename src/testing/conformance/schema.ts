import assert from 'node:assert/strict';
import { LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS } from '../../store/schema.js';
import { rejectsWith } from '../assertions.js';
import { backdoor, type Case, create } from './support.js';

/** Conformance: readiness and migrations (SPEC §4, §5). */
export const schemaCases: readonly Case[] = [
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
];

// The shared schema versions and the Postgres DDL stay in step, and each
// version migrates up from the one before on a real Postgres (PGlite).
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, UserEngine } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { migrationChecksum, migrationScript, POSTGRES_MIGRATIONS } from '../src/postgres/migrations/index.js';
import { schemaName } from '../src/postgres/schema-name.js';
import { SCHEMA_VERSIONS } from '../src/store/index.js';

describe('schema versions and Postgres migrations', () => {
  it('every shared version has Postgres DDL with the same number, name and checksum, in order', () => {
    expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual(SCHEMA_VERSIONS.map((v) => v.version));
    for (const [i, migration] of POSTGRES_MIGRATIONS.entries()) {
      const version = SCHEMA_VERSIONS[i];
      expect(migration.name).toBe(version?.name);
      // If this fails after editing a migration, the checksum in src/store/schema.ts must be updated to:
      expect(version?.checksum, `schema version ${migration.version}`).toBe(migrationChecksum(migration));
    }
    expect(LATEST_SCHEMA_VERSION).toBe(SCHEMA_VERSIONS.at(-1)?.version);
    expect(SCHEMA_VERSIONS[0]?.breaking).toBe(true);
  });

  it('a migration script holds only the quoted schema name and the library constants', () => {
    const schema = schemaName('tenant_a');
    const first = POSTGRES_MIGRATIONS[0];
    const version = SCHEMA_VERSIONS[0];
    if (first === undefined || version === undefined) throw new Error('no migrations');
    const script = migrationScript(schema, first, version);
    expect(script).not.toContain('__SCHEMA__');
    expect(script).toContain('"tenant_a".records');
    expect(script).toContain("pg_advisory_xact_lock(hashtextextended('user-engine:migrate:tenant_a', 0))");
    // The version row is written before any DDL of the version.
    expect(script.indexOf('INSERT INTO "tenant_a".schema_migrations')).toBeLessThan(
      script.indexOf('CREATE TABLE "tenant_a".records'),
    );
  });

  it('rejects schema names that would need escaping or name a system schema', () => {
    for (const bad of ['', 'Users', 'a-b', 'a"b', 'pg_catalog', '1abc', 'x'.repeat(64), 'a b']) {
      expect(() => schemaName(bad), bad).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    }
  });
});

describe('migrating up from the version before (PGlite)', () => {
  const db = new PGlite();
  afterAll(async () => db.close());

  // Each earlier version k: a database migrated to k by code that knew only 1..k, holding users
  // written at k where k can hold them (version 2 added the commit), upgrades to the latest with
  // exactly the missing versions applied, and keeps every user intact and usable.
  for (const at of SCHEMA_VERSIONS.slice(0, -1)) {
    it(`a database at version ${at.version}, with data, is not ready for this code, and migrate() applies only the later versions`, async () => {
      const schema = `up_from_${at.version}`;
      const known = SCHEMA_VERSIONS.slice(0, at.version);
      const older = new PostgresUserEngineStore({ connection: db, schema, schemaVersions: known });
      expect(await older.migrate()).toEqual({ applied: known.map((v) => v.version), currentVersion: at.version });
      const before =
        at.version >= 2
          ? await Promise.all(
              ['first@example.com', 'second@example.com'].map((email, i) =>
                new UserEngine({ store: older }).registerUser({ actor: 'old' }, { email, handle: `old_${i}` }),
              ),
            )
          : [];
      const later = SCHEMA_VERSIONS.slice(at.version).map((v) => v.version);
      const store = new PostgresUserEngineStore({ connection: db, schema });
      expect(await store.readiness()).toMatchObject({ ready: false, currentVersion: at.version, pending: later });
      await expect(store.recordCounts()).rejects.toMatchObject({ code: 'schema_not_ready' });
      expect(await store.migrate()).toEqual({ applied: later, currentVersion: LATEST_SCHEMA_VERSION });
      const engine = new UserEngine({ store });
      for (const user of before) {
        expect(await engine.getUser(user.id)).toEqual(user);
        expect((await engine.findUserByEmail(user.email ?? ''))?.id).toBe(user.id);
        await engine.eraseUser({ actor: 'new' }, user.id);
      }
      const user = await engine.registerUser({ actor: 't' }, { email: 'first@example.com' });
      expect((await engine.findUserByEmail('FIRST@example.com'))?.id).toBe(user.id);
    });
  }

  it('code that knows only earlier versions stays ready on the latest database exactly when every later version is non-breaking', async () => {
    const store = new PostgresUserEngineStore({ connection: db, schema: 'rolling' });
    await store.migrate();
    for (const known of SCHEMA_VERSIONS.slice(0, -1)) {
      const older = new PostgresUserEngineStore({
        connection: db,
        schema: 'rolling',
        schemaVersions: SCHEMA_VERSIONS.slice(0, known.version),
      });
      const laterBreaking = SCHEMA_VERSIONS.filter((v) => v.version > known.version && v.breaking);
      const readiness = await older.readiness();
      expect(readiness).toMatchObject({
        ready: laterBreaking.length === 0,
        currentVersion: LATEST_SCHEMA_VERSION,
        latestVersion: known.version,
      });
      if (laterBreaking.length === 0) {
        expect(await older.migrate()).toEqual({ applied: [], currentVersion: LATEST_SCHEMA_VERSION });
      } else {
        await expect(older.migrate()).rejects.toMatchObject({ code: 'schema_not_ready' });
        expect(readiness.problems.join(' ')).toContain(`version ${laterBreaking.at(-1)?.version}`);
      }
    }
  });
});

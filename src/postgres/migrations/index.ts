import { createHash } from 'node:crypto';
import { SCHEMA_VERSIONS, type SchemaVersion } from '../../store/schema.js';
import { MIGRATIONS_TABLE, type SchemaName } from '../schema-name.js';
import { initialTables } from './001-initial-tables.js';
import { commitFunction } from './002-commit-function.js';
import { exactCommit } from './003-exact-commit.js';
import { rekeyStatement } from './004-email-keys.js';
import { outboxDelivery } from './005-outbox-delivery.js';

/**
 * One schema version for Postgres. `__SCHEMA__` in `sql` stands for the quoted
 * schema name. A DDL version's `sql` is a script run as one transaction; a
 * re-keying version's (`rekey: true`) is the one parameterized statement that
 * applies its data step (see `004-email-keys.ts`).
 */
export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly rekey?: true;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  { version: 1, name: 'initial tables', sql: initialTables },
  { version: 2, name: 'one-statement commit function', sql: commitFunction },
  { version: 3, name: 'one concurrency rule for every commit path', sql: exactCommit },
  { version: 4, name: 'email index keys: width-mapped, case-folded, NFC', sql: rekeyStatement, rekey: true },
  { version: 5, name: 'outbox delivery', sql: outboxDelivery },
]);

/** The checksum recorded for a migration: SHA-256 over its text as written, placeholder included. */
export function migrationChecksum(migration: Pick<PostgresMigration, 'sql'>): string {
  return `sha256:${createHash('sha256').update(migration.sql).digest('hex')}`;
}

/**
 * The whole of one version's application, as one script sent on the simple
 * protocol, which Postgres runs as one implicit transaction:
 *
 * 1. a transaction advisory lock keyed on the library and schema name, so
 *    concurrent migrators on one server queue instead of colliding;
 * 2. the schema and the migrations table, if this is the first version;
 * 3. the version row, inserted *before* the DDL: where the lock protects
 *    nothing (PGlite, a transaction-mode pooler), a second migrator blocks on
 *    this row's primary key and then fails with a unique violation, which the
 *    store reads as "already applied";
 * 4. the DDL itself.
 *
 * The script holds no caller-supplied value: only the validated, quoted
 * schema name and the library's own constants (version, name, checksum).
 * DDL cannot take bind parameters; everything else the store sends does.
 */
export function migrationScript(schema: SchemaName, migration: PostgresMigration, version: SchemaVersion): string {
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  return [
    `SELECT pg_advisory_xact_lock(hashtextextended(${literal(`user-engine:migrate:${schema.name}`)}, 0));`,
    `CREATE SCHEMA IF NOT EXISTS ${schema.quoted};`,
    `CREATE TABLE IF NOT EXISTS ${schema.quoted}.${MIGRATIONS_TABLE} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  breaking boolean NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`,
    `INSERT INTO ${schema.quoted}.${MIGRATIONS_TABLE} (version, name, checksum, breaking) VALUES (${version.version}, ${literal(version.name)}, ${literal(version.checksum)}, ${version.breaking});`,
    migration.sql.replaceAll('__SCHEMA__', schema.quoted),
  ].join('\n');
}

/** Pairs each shared schema version with its DDL; throws if the two lists ever drift apart. */
export function migrationsFor(versions: readonly SchemaVersion[] = SCHEMA_VERSIONS): Map<number, PostgresMigration> {
  const byVersion = new Map(POSTGRES_MIGRATIONS.map((m) => [m.version, m]));
  for (const version of versions) {
    const migration = byVersion.get(version.version);
    if (migration !== undefined && migrationChecksum(migration) !== version.checksum) {
      throw new Error(
        `user-engine: Postgres migration ${version.version} does not match the shared schema version checksum; the build is inconsistent`,
      );
    }
  }
  return byVersion;
}

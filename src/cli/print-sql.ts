import { migrationScript, POSTGRES_MIGRATIONS } from '../postgres/migrations/index.js';
import { MIGRATIONS_TABLE, type SchemaName, schemaName } from '../postgres/schema-name.js';
import { SCHEMA_VERSIONS, type SchemaVersion } from '../store/schema.js';

/** One schema version as SQL for an operator's own migration tool. */
export interface PrintedMigration {
  version: number;
  name: string;
  checksum: string;
  breaking: boolean;
  /** `script`: the exact script `user-engine migrate` runs; `guarded-data-step`: see `dataStepScript`. */
  kind: 'script' | 'guarded-data-step';
  sql: string;
}

/**
 * The SQL of the given versions, without applying anything, for Flyway,
 * graphile-migrate, Atlas and the like. Each DDL version is exactly the
 * script `user-engine migrate` runs — advisory lock, migrations table,
 * version row, DDL — so the tool and `user-engine migrate` can take turns on
 * one database and `user-engine status` reads the result as it would its own.
 */
export function printableMigrations(schema: string, versions: readonly SchemaVersion[]): PrintedMigration[] {
  const name = schemaName(schema);
  return versions.map((version) => {
    const migration = POSTGRES_MIGRATIONS.find((m) => m.version === version.version);
    if (migration === undefined) throw new Error(`no Postgres migration for schema version ${version.version}`);
    const base = {
      version: version.version,
      name: version.name,
      checksum: version.checksum,
      breaking: version.breaking,
    };
    if (version.rekey !== undefined) {
      return { ...base, kind: 'guarded-data-step', sql: dataStepScript(name, version, version.rekey.kind) };
    }
    return { ...base, kind: 'script', sql: migrationScript(name, migration, version) };
  });
}

/** The versions after `current`, in order. */
export function versionsAfter(current: number): SchemaVersion[] {
  return SCHEMA_VERSIONS.filter((v) => v.version > current);
}

/**
 * A data step (version 4 re-keys email index records with Unicode case
 * folding computed in JavaScript) cannot be written as SQL. But on a
 * database holding no records of that kind there is nothing to re-key, and
 * applying the version only records it. So the printed step is one statement
 * (atomic even outside a transaction) that records the version when there is
 * nothing to move — a new install — and otherwise raises, changing nothing,
 * with the instruction to apply that version with `user-engine migrate`.
 */
function dataStepScript(schema: SchemaName, version: SchemaVersion, kind: string): string {
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const instruction = `user-engine schema version ${version.version} re-keys existing ${kind} records and must be applied with: user-engine migrate --schema ${schema.name}`;
  return `DO $user_engine$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(${literal(`user-engine:migrate:${schema.name}`)}, 0));
  IF EXISTS (SELECT FROM ${schema.quoted}.records WHERE kind = ${literal(kind)}) THEN
    RAISE EXCEPTION ${literal(instruction)};
  END IF;
  INSERT INTO ${schema.quoted}.${MIGRATIONS_TABLE} (version, name, checksum, breaking)
  VALUES (${version.version}, ${literal(version.name)}, ${literal(version.checksum)}, ${version.breaking});
END
$user_engine$;`;
}

/** The whole output of `migrate --print-sql`: a header, then each version under its own comment block. */
export function sqlListing(schema: string, printed: readonly PrintedMigration[], current: number): string {
  if (printed.length === 0) return `-- user-engine schema "${schema}": nothing to apply (at version ${current})`;
  const lines = [
    `-- user-engine schema "${schema}": the versions after ${current}`,
    '-- Apply each version as one transaction, in order: one file per version for Flyway, graphile-migrate or',
    '-- Atlas (each wraps a file in a transaction), or psql --single-transaction -v ON_ERROR_STOP=1 -f FILE.',
    '-- Each version records itself in schema_migrations, so user-engine status and migrate see it applied.',
  ];
  for (const m of printed) {
    lines.push(
      '',
      `-- ==== version ${m.version}: ${m.name}`,
      `-- checksum: ${m.checksum}`,
      `-- breaking: ${m.breaking ? 'yes (code older than this version is not ready on it)' : 'no'}`,
    );
    if (m.kind === 'guarded-data-step') {
      lines.push(
        '-- A data step: it re-keys existing records with Unicode case folding computed in JavaScript, which',
        '-- SQL cannot reproduce. This statement applies it only where there is nothing to re-key (a new',
        '-- install) and otherwise fails, changing nothing: then apply this version with user-engine migrate.',
      );
    }
    lines.push(m.sql);
  }
  return lines.join('\n');
}

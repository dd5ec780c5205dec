import { SchemaNotReadyError } from './errors.js';
import type { RekeyStep } from './rekey.js';
import { caseInsensitiveKey } from './text-key.js';

/**
 * One version of the storage schema, shared by every store. The checksum is
 * the SHA-256 of the Postgres migration text for that version (with the
 * schema name as a placeholder); a unit test keeps the two in step, and the
 * in-memory store records the same checksums so readiness reads alike on both.
 */
export interface SchemaVersion {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  /**
   * A breaking version changes something older code relies on. A database
   * that has applied a breaking version newer than the running code is not
   * ready for that code (a rollback after a breaking migration).
   */
  readonly breaking: boolean;
  /** A data step applied with the version: records of one kind get new ids. */
  readonly rekey?: RekeyStep;
}

/** A version row as a store records it once applied. */
export interface AppliedSchemaVersion {
  version: number;
  name: string;
  checksum: string;
  breaking: boolean;
}

/** Every schema version this code knows, in order: shared by every store, so readiness reads alike on all of them. */
export const SCHEMA_VERSIONS: readonly SchemaVersion[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'initial tables',
    checksum: 'sha256:d0de10cfb1f5e77a1f4fb07434d3a0c5a4c36799f79aab05389bb1785ff7f1a7',
    breaking: true,
  }),
  Object.freeze({
    version: 2,
    name: 'one-statement commit function',
    checksum: 'sha256:72f2f33a80b673e5b4a11d87ab7f2ce26855a897a904b5a345cacbf431ee2371',
    breaking: false,
  }),
  Object.freeze({
    version: 3,
    name: 'one concurrency rule for every commit path',
    checksum: 'sha256:af81887864f97832a5a3b95b87535bfc204809e617a3c6e7087cdb6a00c8cc80',
    breaking: false,
  }),
  // Email index ids become caseInsensitiveKey(address): every spelling of an address, one key.
  // Breaking: code before it would look addresses up, and claim them, under the old keys.
  Object.freeze({
    version: 4,
    name: 'email index keys: width-mapped, case-folded, NFC',
    checksum: 'sha256:9c9cc68dd7d4e4a723b60d44bc73c2a870454bee3c5643a6f795b102a50e5eea',
    breaking: true,
    rekey: Object.freeze({ kind: 'user-email', key: caseInsensitiveKey, ownerField: 'userId' }),
  }),
  // Delivery state beside each outbox message; older code's messages are enqueued too (a trigger).
  Object.freeze({
    version: 5,
    name: 'outbox delivery',
    checksum: 'sha256:79100c6400dc83a8d37295fd789a23cc035748de26e6e5109e90c20741666035',
    breaking: false,
  }),
]);

/** The schema version this code needs: a store is ready when it has applied it (and nothing breaking after it). */
export const LATEST_SCHEMA_VERSION: number = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1]?.version ?? 0;

/** Where a store's schema stands against the running code (`readiness()`). */
export interface SchemaReadiness {
  ready: boolean;
  /** Highest version the store has applied; 0 for a new store. */
  currentVersion: number;
  /** `LATEST_SCHEMA_VERSION` of the running code. */
  latestVersion: number;
  /** Versions this code knows that the store has not applied, ascending. */
  pending: number[];
  /** Why the store is not usable even after `migrate()`; empty when fine. */
  problems: string[];
}

/** What `migrate()` did. */
export interface MigrationReport {
  /** Versions this call applied, ascending; empty when there was nothing to do. */
  applied: number[];
  currentVersion: number;
}

/**
 * Compares what a store has applied with what the code knows. Pure, so every
 * store reports readiness by the same rules.
 */
export function assessReadiness(
  applied: readonly AppliedSchemaVersion[],
  known: readonly SchemaVersion[] = SCHEMA_VERSIONS,
): SchemaReadiness {
  const latestVersion = known[known.length - 1]?.version ?? 0;
  const appliedByVersion = new Map(applied.map((row) => [row.version, row]));
  const currentVersion = applied.reduce((max, row) => Math.max(max, row.version), 0);
  const problems: string[] = [];
  const pending: number[] = [];
  for (const version of known) {
    const row = appliedByVersion.get(version.version);
    if (row === undefined) pending.push(version.version);
    else if (row.checksum !== version.checksum) {
      problems.push(
        `schema version ${version.version} (${version.name}) has checksum ${row.checksum} in the store, but this code expects ${version.checksum}: the applied schema was changed by hand or by a different build`,
      );
    }
  }
  const knownVersions = new Set(known.map((v) => v.version));
  for (const row of [...applied].sort((a, b) => a.version - b.version)) {
    if (knownVersions.has(row.version)) continue;
    if (row.version < latestVersion) {
      problems.push(`schema version ${row.version} (${row.name}) is applied in the store but unknown to this code`);
    } else if (row.breaking) {
      problems.push(
        `the store is at schema version ${currentVersion}, newer than this code (latest ${latestVersion}), and version ${row.version} (${row.name}) is breaking: deploy code that knows it; migrate() will not touch this store`,
      );
    }
  }
  if (pending.length > 0 && currentVersion > latestVersion) {
    problems.push(`the store skipped schema versions ${pending.join(', ')} that this code expects`);
  }
  return { ready: pending.length === 0 && problems.length === 0, currentVersion, latestVersion, pending, problems };
}

/**
 * The versions `migrate()` should apply, or a `SchemaNotReadyError` when the
 * store is in a state migrating cannot fix (checksum drift, newer breaking versions).
 */
export function planMigration(
  applied: readonly AppliedSchemaVersion[],
  known: readonly SchemaVersion[] = SCHEMA_VERSIONS,
): SchemaVersion[] {
  const readiness = assessReadiness(applied, known);
  if (readiness.problems.length > 0) {
    throw new SchemaNotReadyError(`cannot migrate: ${readiness.problems.join('; ')}`);
  }
  return known.filter((v) => readiness.pending.includes(v.version));
}

/** The error a data call raises on a store that is not ready. */
export function notReadyError(readiness: SchemaReadiness): SchemaNotReadyError {
  if (readiness.problems.length > 0) {
    return new SchemaNotReadyError(`store schema is not usable: ${readiness.problems.join('; ')}`);
  }
  return new SchemaNotReadyError(
    `store schema is at version ${readiness.currentVersion}, this code needs ${readiness.latestVersion} (pending: ${readiness.pending.join(', ')}); run migrate()`,
  );
}

import assert from 'node:assert/strict';
import type { JsonObject } from '../../store/json.js';
import { SCHEMA_VERSIONS, type SchemaVersion } from '../../store/schema.js';
import type { UserEngineStore } from '../../store/store.js';
import { legacyEmailKey } from '../../store/text-key.js';
import type { StoreHandle, SuiteCase } from '../harness.js';

/** One conformance case: it gets the factory's handle (a fresh, unmigrated store and its abilities). */
export type Case = SuiteCase<StoreHandle>;

/** An ISO-8601 UTC timestamp with milliseconds. */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Every observable bit of a store, to prove that a failed call changed nothing. */

export async function create(store: UserEngineStore, kind: string, id: string, data: JsonObject): Promise<void> {
  await store.transaction(async (tx) => {
    tx.put({ kind, id, data, expectedVersion: 0 });
  });
}

/** Migrates a store of older code to the version before the first re-keying version. */
export async function beforeRekey(handle: StoreHandle): Promise<{ older: UserEngineStore; rekeyed: SchemaVersion }> {
  const rekeyed = SCHEMA_VERSIONS.find((v) => v.rekey !== undefined);
  assert.ok(rekeyed, 'a schema version with a re-keying step');
  assert.ok(handle.openOlder, 'the factory declared olderCode but gave no openOlder');
  const older = handle.openOlder(SCHEMA_VERSIONS.filter((v) => v.version < rekeyed.version));
  await older.migrate();
  return { older, rekeyed };
}

/** A user record and its email index record as code before the re-keying version wrote them. */
export async function writeLegacyUser(store: UserEngineStore, kind: string, user: { id: string; email: string }) {
  await store.transaction(async (tx) => {
    tx.put({ kind: 'user', id: user.id, data: { email: user.email, status: 'active' }, expectedVersion: 0 });
    tx.put({ kind, id: legacyEmailKey(user.email), data: { userId: user.id }, expectedVersion: 0 });
  });
}

export function backdoor(
  write: StoreHandle['writeAppliedSchemaVersion'],
): NonNullable<StoreHandle['writeAppliedSchemaVersion']> {
  assert.ok(write, 'the factory declared schemaBackdoor but gave no writeAppliedSchemaVersion');
  return write;
}

/** Valid text that tends to break naive stores: quoting, SQL, bidi, emoji, combining marks, size. */
export const HOSTILE_TEXTS: readonly string[] = [
  `'; DROP TABLE records; --`,
  `"quoted" \\backslash\\ $1 $$dollar$$ %s %d {{x}}`,
  "E'\\x00' \\u0000 literally",
  '\u202Eright-to-left override\u202C and \u200F marks \u200B zero-width',
  '👩‍👩‍👧‍👦 🏳️‍🌈 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'e\u0301 vs é (combining vs precomposed) Å Å',
  '\t tab \n newline \r return \u0001 control \u007f del',
  'x'.repeat(30 * 1024),
];

/** The store conformance cases, for runners other than `runStoreConformance`. */

import { randomBytes } from 'node:crypto';
import type { PostgresConnection } from '../postgres/connection.js';

/**
 * A schema name no one else uses: a prefix, the process id and random hex.
 * Tests, benchmarks and soaks run every case in such a schema and drop only
 * schemas whose names they generated, never a name a person might have
 * chosen (`user_engine`, `accounts`).
 *
 * @example const schema = scratchSchemaName('conformance'); // ue_conformance_4242_9f3a1c0d
 */
export function scratchSchemaName(prefix: string): string {
  return `ue_${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`.slice(0, 63);
}

/**
 * Refuses to go on if a schema of that name already exists, so that a
 * generated name that happens to be taken is never dropped afterwards.
 */
export async function assertSchemaAbsent(connection: PostgresConnection, schema: string): Promise<void> {
  const { rows } = await connection.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (rows.length > 0) throw new Error(`schema ${schema} already exists; refusing to use (and later drop) it`);
}

import type { PostgresConnection } from '../../src/postgres/index.js';

/**
 * The engine's invariants checked with SQL straight from the tables, beside
 * the store-level check the suites make: a second opinion that does not go
 * through the code under test. Returns the names of the checks that failed,
 * with how many rows broke each.
 */
export async function sqlInvariantFailures(connection: PostgresConnection, schema: string): Promise<string[]> {
  const s = `"${schema}"`;
  const checks: Record<string, string> = {
    'index record points to a missing or erased user, or one not holding its value': `
      SELECT count(*) AS n FROM ${s}.records i
      LEFT JOIN ${s}.records u ON u.kind = 'user' AND u.id = i.data->>'userId'
      WHERE i.kind IN ('user-email', 'user-handle', 'user-identity')
        AND (u.id IS NULL OR u.data->>'status' = 'erased'
          OR (i.kind = 'user-email' AND u.data->>'email' IS NULL)
          OR (i.kind = 'user-handle' AND u.data->>'handle' IS DISTINCT FROM i.id)
          OR (i.kind = 'user-identity' AND NOT EXISTS (
                SELECT FROM jsonb_array_elements(u.data->'identities') e
                WHERE (e->>'provider') || ':' || (e->>'subject') = i.id)))`,
    'live user value without an index record pointing back': `
      SELECT count(*) AS n FROM ${s}.records u
      WHERE u.kind = 'user' AND u.data->>'status' <> 'erased' AND (
        (u.data->>'email' IS NOT NULL AND NOT EXISTS (
          SELECT FROM ${s}.records i WHERE i.kind = 'user-email' AND i.data->>'userId' = u.id))
        OR (u.data->>'handle' IS NOT NULL AND NOT EXISTS (
          SELECT FROM ${s}.records i WHERE i.kind = 'user-handle' AND i.id = u.data->>'handle' AND i.data->>'userId' = u.id))
        OR EXISTS (
          SELECT FROM jsonb_array_elements(u.data->'identities') e WHERE NOT EXISTS (
            SELECT FROM ${s}.records i
            WHERE i.kind = 'user-identity' AND i.id = (e->>'provider') || ':' || (e->>'subject') AND i.data->>'userId' = u.id)))`,
    'user owning more than one email or handle index record': `
      SELECT count(*) AS n FROM (
        SELECT kind, data->>'userId' FROM ${s}.records WHERE kind IN ('user-email', 'user-handle')
        GROUP BY 1, 2 HAVING count(*) > 1) twice`,
    'user version differs from its number of audit entries': `
      SELECT count(*) AS n FROM ${s}.records u
      WHERE u.kind = 'user' AND u.version <> (SELECT count(*) FROM ${s}.audit a WHERE a.record_key = 'user:' || u.id)`,
    'erased user still holding personal data': `
      SELECT count(*) AS n FROM ${s}.records u
      WHERE u.kind = 'user' AND u.data->>'status' = 'erased' AND (
        u.data->>'email' IS NOT NULL OR u.data->>'handle' IS NOT NULL OR u.data->>'displayName' IS NOT NULL
        OR u.data->>'locale' IS NOT NULL OR jsonb_array_length(u.data->'identities') > 0
        OR jsonb_array_length(u.data->'roles') > 0 OR u.data->'attributes' <> '{}'::jsonb)`,
    'counter whose value does not match its version': `
      SELECT count(*) AS n FROM ${s}.records WHERE kind = 'counter' AND (data->>'n')::integer + 1 <> version`,
    'audit entries and outbox messages differ in number': `
      SELECT abs((SELECT count(*) FROM ${s}.audit WHERE action LIKE 'user.%') - (SELECT count(*) FROM ${s}.outbox)) AS n`,
  };
  const failures: string[] = [];
  for (const [name, text] of Object.entries(checks)) {
    const { rows } = await connection.query(text);
    const n = Number(rows[0]?.n ?? 0);
    if (n !== 0) failures.push(`${name}: ${n}`);
  }
  return failures;
}

// Proves, around every test run against a live server, that the suite leaves
// schemas it did not create exactly as it found them. Before the run it
// fingerprints `user_engine` and `accounts` (the names a person would choose,
// and the ones the README uses) — creating a canary in each that is absent —
// and after the run it fails if any fingerprint changed, then drops only the
// canaries it created.
import pg from 'pg';

const GUARDED = ['user_engine', 'accounts'];
const url = process.env.USER_ENGINE_TEST_DATABASE_URL;

async function fingerprint(client: pg.Client, schema: string): Promise<string> {
  const tables = await client.query(
    `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 ORDER BY c.relname`,
    [schema],
  );
  const parts = [JSON.stringify(tables.rows)];
  for (const { relname, relkind } of tables.rows as { relname: string; relkind: string }[]) {
    if (relkind !== 'r') continue;
    const quoted = `"${schema}"."${relname.replaceAll('"', '""')}"`;
    const rows = await client.query(
      `SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h FROM ${quoted} t`,
    );
    parts.push(`${relname}:${rows.rows[0]?.h}`);
  }
  return parts.join('|');
}

async function onlyCanary(client: pg.Client, schema: string): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
    [schema],
  );
  return rows.length === 1 && rows[0]?.relname === 'user_engine_test_canary';
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (url === undefined || url === '') return undefined;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const created: string[] = [];
  const before = new Map<string, string>();
  try {
    for (const schema of GUARDED) {
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rows.length === 0) {
        await client.query(`CREATE SCHEMA "${schema}"`);
        await client.query(`CREATE TABLE "${schema}".user_engine_test_canary (note text)`);
        await client.query(`INSERT INTO "${schema}".user_engine_test_canary VALUES ('the tests must not touch this')`);
        created.push(schema);
      } else if (await onlyCanary(client, schema)) {
        // Another test run on this database (running now) made it, and will drop it: not ours to guard.
        continue;
      }
      before.set(schema, await fingerprint(client, schema));
    }
  } finally {
    await client.end();
  }
  return async () => {
    const after = new pg.Client({ connectionString: url });
    await after.connect();
    try {
      const changed: string[] = [];
      for (const [schema, print] of before) {
        if ((await fingerprint(after, schema)) !== print) changed.push(schema);
      }
      for (const schema of created) await after.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      if (changed.length > 0) {
        // A throw here is only printed by the runner; the exit code is what CI reads.
        console.error(`FAILED: the test run changed schemas it did not create: ${changed.join(', ')}`);
        process.exitCode = 1;
      }
    } finally {
      await after.end();
    }
  };
}

// `npm run soak [-- --seconds N --workers N --max-ops N]`: the soak on PGlite and, when
// USER_ENGINE_TEST_DATABASE_URL is set, on the live server through a pg Pool while
// backends are terminated at random moments. Exits 1 if any invariant fails.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type CommitPath, fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { CountingConnection, scratchSchemaName } from '../src/testing/index.js';
import { backendKiller } from './faults.js';
import { runSoak, type SoakReport } from './soak.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = option('seconds', 20);
const workers = option('workers', 16);
const maxOps = option('max-ops', 200_000);
const url = process.env.USER_ENGINE_TEST_DATABASE_URL;

function print(name: string, r: SoakReport): void {
  const refused = Object.entries(r.refused)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  console.log(`\n${name}`);
  console.log(
    `  operations        ${r.operations} in ${r.seconds.toFixed(1)} s (${Math.round(r.operations / r.seconds)}/s)`,
  );
  console.log(`  acknowledged      ${r.acknowledged} successful writes`);
  console.log(`  refused           ${refused || 'none'}`);
  console.log(
    `  conflicts         ${r.conflictsRetried} met and retried; ${r.retriesExhausted} left after every retry`,
  );
  console.log(`  faults injected   ${r.faultsInjected}; calls failed as store_unavailable: ${r.unavailable}`);
  if (r.commits !== null) {
    console.log(
      `  commit paths      ${r.commits.writeBatch} write-batch statements, ${r.commits.applyCommit} apply_commit calls; ${r.manyIdentityUsers} users given many identities`,
    );
  }
  console.log(
    `  unexpected errors ${r.unexpected.length}${r.unexpected.length ? `: ${r.unexpected.slice(0, 3).join(' | ')}` : ''}`,
  );
  console.log(
    `  invariants        ${r.invariants.checks - r.invariants.failures.length}/${r.invariants.checks} checks passed over ${r.invariants.users} users, ${r.invariants.audit} audit entries, ${r.invariants.outbox} outbox messages`,
  );
  for (const failure of r.invariants.failures.slice(0, 10)) console.log(`  FAILED: ${failure}`);
}

/** A store on the automatic commit path and a peer forced onto apply_commit, over one schema, counting statements. */
function storesOn(connection: CountingConnection, schema: string) {
  const make = (commitPath: CommitPath) => new PostgresUserEngineStore({ connection, schema, commitPath });
  return { store: make('auto'), peer: make('apply-commit'), statements: () => ({ ...connection.byKind }) };
}

async function main(): Promise<void> {
  console.log(`soak: ${workers} workers, ${seconds} s or ${maxOps} commands per store`);
  const results: [string, SoakReport][] = [];
  const lite = new PGlite();
  const liteStores = storesOn(new CountingConnection(lite), 'soak');
  await liteStores.store.migrate();
  results.push([
    'pglite (half the workers on a store forced onto apply_commit)',
    await runSoak({ ...liteStores, workers, durationMs: seconds * 1000, maxOperations: maxOps }),
  ]);
  await lite.close();
  if (url) {
    const applicationName = `user-engine-soak-${process.pid}`;
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    const pool = new pg.Pool({ connectionString: url, max: 16, application_name: applicationName });
    pool.on('error', () => {}); // a terminated idle client; the next call reports it
    const schema = scratchSchemaName('soak');
    try {
      const stores = storesOn(new CountingConnection(fromNodePostgres(pool)), schema);
      await stores.store.migrate();
      results.push([
        'live pg-pool, backends terminated at random (half the workers on a store forced onto apply_commit)',
        await runSoak({
          ...stores,
          workers,
          durationMs: seconds * 1000,
          maxOperations: maxOps,
          faults: backendKiller(admin, applicationName),
        }),
      ]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([pool.end(), admin.end()]);
    }
  } else {
    console.log('USER_ENGINE_TEST_DATABASE_URL is not set: the live-server soak is skipped.');
  }
  for (const [name, report] of results) print(name, report);
  const bad = results.filter(([, r]) => r.invariants.failures.length > 0 || r.unexpected.length > 0);
  process.exitCode = bad.length > 0 ? 1 : 0;
  console.log(bad.length > 0 ? '\nSOAK FAILED' : '\nsoak passed: every invariant holds');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

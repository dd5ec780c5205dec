// The benchmark: `npm run bench` (full) or `npm run bench -- --quick` (CI).
// user-engine's registerUser, updateProfile, getUser, findUserByEmail (and
// listUsers in memory) at 1 and 16 callers, on the in-memory store, PGlite
// and (with USER_ENGINE_TEST_DATABASE_URL) a live server through a pg Pool
// and postgres.js, beside a hand-written node-postgres baseline and two peers
// (Auth.js's pg adapter, Better Auth) on the same server in the same rounds.
// Then the relay to each broker (outbox → NATS, RabbitMQ, Redis: keeps up with
// the engine? lag?), user-engine's Auth.js adapter beside @auth/pg-adapter,
// and, in a full run, the in-memory store at a million users. Method and
// flags: docs/performance.md. Writes bench/results/latest.json.
//
//   options.ts   flags          variants.ts  user-engine + baseline   peers.ts  Auth.js, Better Auth
//   measure.ts   cells, rounds  report.ts    rows, ratios, table, JSON scale.ts  one million users
//   relay.ts     outbox → broker, end to end  authjs-adapter.ts  the two Auth.js adapters
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import postgres from 'postgres';
import { fromNodePostgres, fromPostgresJs } from '../src/postgres/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import { measureAuthjsAdapters, printAuthjsAdapters } from './authjs-adapter.js';
import { measureRounds, type Variant } from './measure.js';
import { type BenchOptions, readOptions, type StoreName, wants } from './options.js';
import { authjsVariant, betterAuthVariant, type PeerPlace } from './peers.js';
import { measureRelays, printRelays } from './relay.js';
import {
  machineInfo,
  printSkipped,
  printTable,
  type Results,
  type Skipped,
  summarize,
  writeResults,
} from './report.js';
import { measureScale, printScale } from './scale.js';
import { baselineVariant, memoryVariant, postgresVariant } from './variants.js';

/** What a run has opened, to be closed and dropped however it ends. */
interface Opened {
  variants: Variant[];
  skipped: Skipped[];
  closers: (() => Promise<void>)[];
  schemas: string[];
  admin: pg.Pool | null;
  server: Record<string, string> | null;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2), process.env);
  const { rows, skipped, server } = await measureStores(options);
  const authjs = options.authjs ? await measureAuthjsAdapters(options) : { rows: [], skipped: [] };
  const relay = options.relay ? await measureRelays(options) : { results: [], skipped: [] };
  const scale = options.scale ? await measureScale(options) : null;
  report(options, server, {
    rows,
    skipped: [...skipped, ...authjs.skipped, ...relay.skipped],
    scale,
    relay: relay.results,
    authjsAdapter: authjs.rows,
  });
}

/** Opens every wanted variant, measures them in alternating rounds, closes them, and returns the rows. */
async function measureStores(options: BenchOptions) {
  const opened: Opened = { variants: [], skipped: [], closers: [], schemas: [], admin: null, server: null };
  try {
    await openInProcessVariants(options, opened);
    if (options.databaseUrl === undefined) {
      console.log('USER_ENGINE_TEST_DATABASE_URL is not set: measuring memory and PGlite only (no live server).');
    } else {
      await openLiveVariants(options, options.databaseUrl, opened);
    }
    // `--only=relay` or `--only=authjs` opens no variant: no empty rounds to print.
    const cells = opened.variants.length === 0 ? new Map() : await measureRounds(opened.variants, options);
    return { rows: summarize(opened.variants, cells), skipped: opened.skipped, server: opened.server };
  } finally {
    await closeAll(opened);
  }
}

async function openInProcessVariants(options: BenchOptions, opened: Opened): Promise<void> {
  if (wants(options, 'memory')) opened.variants.push(await memoryVariant(options.seedUsers));
  if (wants(options, 'pglite')) {
    const lite = new PGlite();
    opened.closers.push(() => lite.close());
    opened.variants.push(await postgresVariant('pglite', 'engine', lite, undefined, options.seedUsers, async () => {}));
  }
}

/** The live server's variants, each in a schema of its own, plus the server's settings for the report. */
async function openLiveVariants(options: BenchOptions, url: string, opened: Opened): Promise<void> {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  opened.admin = admin;
  opened.server = await serverSettings(admin);
  const schema = (name: string) => {
    const s = scratchSchemaName(`bench_${name}`);
    opened.schemas.push(s);
    return s;
  };
  const seed = options.seedUsers;
  if (wants(options, 'pg-pool')) {
    const pool = new pg.Pool({ connectionString: url, max: 16 });
    opened.closers.push(() => pool.end());
    opened.variants.push(
      await postgresVariant('pg-pool', 'engine-live', fromNodePostgres(pool), schema('pool'), seed, async () => {}),
    );
  }
  if (wants(options, 'postgres-js')) {
    const sql = postgres(url, { max: 16, onnotice: () => {} });
    opened.closers.push(() => sql.end());
    opened.variants.push(
      await postgresVariant('postgres-js', 'engine-live', fromPostgresJs(sql), schema('js'), seed, async () => {}),
    );
  }
  if (wants(options, 'baseline-pg')) {
    const pool = new pg.Pool({ connectionString: url, max: 16 });
    opened.closers.push(() => pool.end());
    opened.variants.push(await baselineVariant(pool, schema('baseline'), seed));
  }
  // A peer's schema joins the drop list only once the peer has found it absent, so a run never drops
  // a schema it did not create.
  const place = (name: string): PeerPlace => {
    const s = scratchSchemaName(`bench_${name}`);
    return { url, schema: s, admin, seedUsers: seed, own: () => opened.schemas.push(s) };
  };
  await openPeer(options, opened, 'authjs-pg', () => authjsVariant(place('authjs')));
  await openPeer(options, opened, 'better-auth', () => betterAuthVariant(place('betterauth')));
}

/** A peer that cannot be loaded or set up is reported with its error, not measured, and does not stop the run. */
async function openPeer(
  options: BenchOptions,
  opened: Opened,
  name: StoreName,
  open: () => Promise<Variant>,
): Promise<void> {
  if (!wants(options, name)) return;
  try {
    opened.variants.push(await open());
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.log(`${name}: not measured: ${reason}`);
    opened.skipped.push({ store: name, reason });
  }
}

async function serverSettings(admin: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await admin.query(
    `SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
            current_setting('synchronous_commit') AS synchronous_commit`,
  );
  return rows[0] as Record<string, string>;
}

/** Closes variants and pools, then drops every schema this run generated. */
async function closeAll(opened: Opened): Promise<void> {
  for (const variant of opened.variants) await variant.close();
  for (const close of opened.closers) await close();
  if (opened.admin === null) return;
  for (const s of opened.schemas) await opened.admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await opened.admin.end();
}

function report(options: BenchOptions, server: Record<string, string> | null, results: Omit<Results, 'machine'>): void {
  const { rows, skipped, scale, relay, authjsAdapter } = results;
  printTable(rows);
  printAuthjsAdapters(authjsAdapter);
  printRelays(relay);
  printSkipped(skipped);
  if (scale !== null) printScale(scale);
  writeResults({ machine: machineInfo(options, server), ...results });
  console.log(
    `\nwritten to bench/results/latest.json (${options.mode}, ${options.rounds} rounds of ${options.cellMs} ms per cell` +
      `${scale === null ? ', no scale step' : `, scale step at ${scale.users} users`})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// The race suite on the live server through each driver, with the store and its
// peer on every combination of commit paths, commands held open inside the
// application's own transaction, and the invariants checked again with SQL.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type CommitPath, fromNodePostgres, fromPostgresJs, type PostgresConnection } from '../src/postgres/index.js';
import { runRaceScenarios } from '../src/testing/index.js';
import { type OpenCallerConnection, raceFactory } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const live = url !== undefined && url !== '';
const runner = { describe: live ? describe : describe.skip, it, skip: it.skip };

const pool = live ? new pg.Pool({ connectionString: url, max: 12 }) : undefined;
const client = live ? new pg.Client({ connectionString: url }) : undefined;
const sql = live ? postgres(url, { max: 12, onnotice: () => {} }) : undefined;
const bouncerUrl = process.env.USER_ENGINE_TEST_PGBOUNCER_URL;
const bouncerPool = live && bouncerUrl ? new pg.Pool({ connectionString: bouncerUrl, max: 12 }) : undefined;

/** The application's own transaction on a connection taken from `from`. */
function callerFrom(from: pg.Pool): OpenCallerConnection {
  return async () => {
    const own = await from.connect();
    await own.query('BEGIN');
    return {
      connection: own,
      end: async (statement) => {
        try {
          await own.query(statement);
        } finally {
          own.release();
        }
      },
    };
  };
}

if (live && pool && client && sql) {
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all([pool.end(), client.end(), sql.end(), bouncerPool?.end()]);
  });

  const fromPool: OpenCallerConnection = callerFrom(pool);
  const fromNewClient: OpenCallerConnection = async () => {
    const own = new pg.Client({ connectionString: url });
    await own.connect();
    await own.query('BEGIN');
    return {
      connection: own,
      end: async (statement) => {
        try {
          await own.query(statement);
        } finally {
          await own.end();
        }
      },
    };
  };
  const fromReserved: OpenCallerConnection = async () => {
    const own = await sql.reserve();
    await own.unsafe('BEGIN');
    return {
      connection: fromPostgresJs(own),
      end: async (statement) => {
        try {
          await own.unsafe(statement);
        } finally {
          own.release();
        }
      },
    };
  };
  const drivers: [string, PostgresConnection, OpenCallerConnection][] = [
    ['pg-pool', pool, fromPool],
    ['pg-client', client, fromNewClient],
    ['postgres-js', fromPostgresJs(sql), fromReserved],
  ];
  // Through a transaction-mode PgBouncer, prepared statements off: the same races, the same rules.
  if (bouncerPool !== undefined) {
    drivers.push(['pgbouncer-pool', fromNodePostgres(bouncerPool, { prepare: false }), callerFrom(bouncerPool)]);
  }
  const pairs: [CommitPath, CommitPath][] = [
    ['write-batch', 'apply-commit'],
    ['apply-commit', 'write-batch'],
    ['auto', 'auto'],
  ];
  for (const [name, connection, openCaller] of drivers) {
    for (const paths of pairs) {
      runRaceScenarios(
        runner,
        `live ${name} ${paths.join(' × ')}`,
        raceFactory(`race_${name.replace('-', '')}`, connection, paths, { openCaller, sqlCheck: true }),
        { capabilities: ['callerTransaction'] },
      );
    }
  }
} else {
  runner.describe('live race scenarios', () => {
    it.skip('runs only with USER_ENGINE_TEST_DATABASE_URL set', () => {});
  });
}

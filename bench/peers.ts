// Peers measured in the same run, on the same server, in the same rounds as
// user-engine: Auth.js's Postgres adapter and Better Auth on its Kysely
// adapter. Each gets its own scratch schema (reached through search_path,
// as both document for a non-default schema) and its own pg.Pool of 16.
// They are loaded with import() so that a peer that cannot be installed or
// started is reported with its error instead of failing the whole run.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { assertSchemaAbsent } from '../src/testing/index.js';
import type { Variant } from './measure.js';
import { nextEmail } from './variants.js';

/**
 * Auth.js's PostgreSQL adapter schema: the tables of the adapter's page on
 * authjs.dev, with `users.email UNIQUE` and the foreign keys of the schema
 * its own tests run on (packages/adapter-pg/schema.sql in its repository),
 * so that `getUserByEmail` (`where email = $1`) is an index probe rather than
 * a sequential scan. Added for a fair comparison: a unique index on
 * lower(email), which user-engine's case-insensitive email uniqueness matches.
 */
const AUTHJS_SCHEMA = `
CREATE TABLE verification_token (
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,
  PRIMARY KEY (identifier, token)
);
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255),
  email VARCHAR(255) UNIQUE,
  "emailVerified" TIMESTAMPTZ,
  image TEXT
);
CREATE TABLE accounts (
  id SERIAL PRIMARY KEY,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,
  UNIQUE (provider, "providerAccountId")
);
CREATE TABLE sessions (
  id SERIAL PRIMARY KEY,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL UNIQUE
);
CREATE UNIQUE INDEX users_lower_email_key ON users (lower(email));
`;

/** Where a peer lives: the server, its scratch schema (created here), and the admin pool that drops it later. */
export interface PeerPlace {
  url: string;
  schema: string;
  admin: pg.Pool;
  seedUsers: number;
  /** Called once the schema is known to be the run's own (it did not exist): from then on the run drops it. */
  own: () => void;
}

/**
 * Auth.js `@auth/pg-adapter`: `createUser`, `getUser`, `getUserByEmail` beside
 * user-engine's `registerUser`, `getUser`, `findUserByEmail`.
 */
export async function authjsVariant(place: PeerPlace): Promise<Variant> {
  const { default: PostgresAdapter } = await import('@auth/pg-adapter');
  const { pool, counter } = await scratchPool(place);
  try {
    await pool.query(AUTHJS_SCHEMA);
    const adapter = PostgresAdapter(pool);
    const { createUser, getUser, getUserByEmail } = adapter;
    if (createUser === undefined || getUser === undefined || getUserByEmail === undefined) {
      throw new Error('@auth/pg-adapter no longer has createUser, getUser and getUserByEmail');
    }
    // What Auth.js's core hands the adapter for a new user; the adapter ignores the id (the column is SERIAL).
    const newUser = () => ({
      id: randomUUID(),
      name: null,
      email: nextEmail('authjs'),
      emailVerified: null,
      image: null,
    });
    const ids: string[] = [];
    const emails: string[] = [];
    for (let i = 0; i < place.seedUsers; i++) {
      const user = await createUser(newUser());
      ids.push(String(user.id));
      emails.push(user.email);
    }
    return {
      name: 'authjs-pg',
      role: 'peer',
      statements: () => counter.total,
      close: () => pool.end(),
      operations: [
        { name: 'createUser', counterpart: 'registerUser', run: async () => createUser(newUser()) },
        { name: 'getUser', counterpart: 'getUser', run: async (i) => getUser(ids[i % ids.length] as string) },
        {
          name: 'getUserByEmail',
          counterpart: 'findUserByEmail',
          run: async (i) => getUserByEmail(emails[i % emails.length] as string),
        },
      ],
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Better Auth on its Kysely adapter (given a pg.Pool, Better Auth wraps it in
 * Kysely's PostgresDialect itself), with the tables its own migrations create
 * (`getMigrations(options).runMigrations()`, what `npx @better-auth/cli
 * migrate` runs). Measured: the internal adapter's `createUser`, what its
 * sign-up endpoints call, beside user-engine's `registerUser`.
 */
export async function betterAuthVariant(place: PeerPlace): Promise<Variant> {
  const { betterAuth } = await import('better-auth');
  const { getMigrations } = await import('better-auth/db/migration');
  const { pool, counter } = await scratchPool(place);
  try {
    const options = {
      database: pool,
      secret: randomBytes(32).toString('hex'),
      baseURL: 'http://localhost:3000',
      telemetry: { enabled: false },
    };
    await (await getMigrations(options)).runMigrations();
    const { internalAdapter } = await betterAuth(options).$context;
    // As its email sign-up endpoint calls it, once the password is hashed and the email found free.
    const createUser = () =>
      internalAdapter.createUser(
        { email: nextEmail('better-auth'), name: '', emailVerified: false },
        { method: 'email-password' },
      );
    for (let i = 0; i < place.seedUsers; i++) await createUser();
    return {
      name: 'better-auth',
      role: 'peer',
      statements: () => counter.total,
      close: () => pool.end(),
      operations: [{ name: 'createUser', counterpart: 'registerUser', run: createUser }],
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Creates the peer's schema and a pool of 16 whose connections start with it
 * as their search_path, counting every statement they send.
 */
async function scratchPool(place: PeerPlace): Promise<{ pool: pg.Pool; counter: { readonly total: number } }> {
  await assertSchemaAbsent(place.admin, place.schema);
  place.own();
  await place.admin.query(`CREATE SCHEMA "${place.schema}"`);
  // Schema names from scratchSchemaName are [a-z0-9_]: safe unquoted in a startup option.
  const pool = new pg.Pool({ connectionString: place.url, max: 16, options: `-c search_path=${place.schema}` });
  return { pool, counter: countStatements(pool) };
}

/**
 * Counts every statement the pool's clients send. The peers take the pool
 * itself (Auth.js calls `pool.query`, Kysely `pool.connect()` and
 * `client.query`), so there is no connection of ours to wrap: each client is
 * wrapped as the pool opens it, which is why this must run before the pool's
 * first query. (`pool.query` goes through `client.query` too, so the Auth.js
 * adapter step counts user-engine's statements the same way.)
 */
export function countStatements(pool: pg.Pool): { readonly total: number } {
  const counter = { total: 0 };
  const wrap = (client: pg.PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.assign(client, {
      query: (...args: unknown[]) => {
        counter.total += 1;
        return send(...args);
      },
    });
  };
  pool.on('connect', wrap);
  return counter;
}

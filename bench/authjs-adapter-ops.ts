// Auth.js adapter operations for the benchmark to time, on user-engine's
// adapter and on @auth/pg-adapter doing the same work: createUser,
// createUser + linkAccount (a first OAuth sign-in), getSessionAndUser (every
// request of a signed-in user) and updateSession (a session's sliding
// expiry). bench/authjs-adapter.ts times them; test/authjs.int.test.ts uses
// the schema.
import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterAccount, AdapterUser } from '@auth/core/adapters';
import type pg from 'pg';

/**
 * `@auth/pg-adapter`'s documented schema, plus the unique index on
 * lower(email) it lacks (without it, `Ada@x` and `ada@x` are two users).
 * Unqualified names, as the pg adapter queries them: run it with the
 * search_path the adapter's pool will use (a scratch schema or database).
 */
export const AUTHJS_PG_SCHEMA_SQL = `
CREATE TABLE users (
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255) UNIQUE,
  "emailVerified" TIMESTAMPTZ,
  image TEXT,
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
CREATE TABLE accounts (
  id SERIAL,
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
  PRIMARY KEY (id),
  UNIQUE (provider, "providerAccountId")
);
CREATE TABLE sessions (
  id SERIAL,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) UNIQUE NOT NULL,
  PRIMARY KEY (id)
);
CREATE TABLE verification_token (
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,
  PRIMARY KEY (identifier, token)
);
`;

/** The timed operations, in the order the benchmark runs and prints them. */
export const AUTHJS_OPERATIONS = [
  'createUser',
  'createUserAndLinkAccount',
  'getSessionAndUser',
  'updateSession',
] as const;
export type AuthjsOperation = (typeof AUTHJS_OPERATIONS)[number];

/**
 * Each call does one unit of work on fresh values, or on the session prepared
 * for `worker` (the caller's index, 0 to 15).
 */
export interface AuthjsAdapterOps {
  /** Which adapter: `user-engine` or `pg-adapter`. */
  name: string;
  createUser(): Promise<void>;
  /** A first OAuth sign-in's writes: the user, then its account. */
  createUserAndLinkAccount(): Promise<void>;
  /** Reads the caller's prepared session and its user. */
  getSessionAndUser(worker: number): Promise<void>;
  /** Moves the caller's prepared session's expiry. */
  updateSession(worker: number): Promise<void>;
}

const DAY = 24 * 3_600_000;
/**
 * One prepared user and session per caller at the benchmark's 16: a real
 * site's requests slide many sessions, and 16 callers sliding one would
 * measure contention on one row (user-engine's adapter retries a version
 * conflict, the pg adapter's UPDATE waits on the row lock), not the adapter.
 */
const PREPARED_SESSIONS = 16;

function newUser(): AdapterUser {
  const id = randomUUID();
  return { id, email: `bench-${id}@example.com`, emailVerified: null, name: 'Bench User', image: null };
}

function newAccount(userId: string): AdapterAccount {
  return {
    userId,
    type: 'oauth',
    provider: 'github',
    providerAccountId: randomUUID(),
    access_token: randomUUID(),
    refresh_token: randomUUID(),
    token_type: 'bearer',
    scope: 'read:user',
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  };
}

/**
 * The operations on any Auth.js adapter (both are measured through the same
 * code): prepares a user with a session per caller for the read and the update.
 */
export async function adapterOps(name: string, adapter: Adapter): Promise<AuthjsAdapterOps> {
  const { createUser, linkAccount, createSession, getSessionAndUser, updateSession } = adapter as Required<Adapter>;
  const sessionTokens: string[] = [];
  for (let i = 0; i < PREPARED_SESSIONS; i++) {
    const prepared = await createUser(newUser());
    const sessionToken = randomUUID();
    await createSession({ sessionToken, userId: prepared.id, expires: new Date(Date.now() + 30 * DAY) });
    sessionTokens.push(sessionToken);
  }
  const tokenOf = (worker: number) => sessionTokens[worker % PREPARED_SESSIONS] as string;
  let slide = 0;
  return {
    name,
    async createUser() {
      await createUser(newUser());
    },
    async createUserAndLinkAccount() {
      const user = await createUser(newUser());
      await linkAccount(newAccount(user.id));
    },
    async getSessionAndUser(worker) {
      if ((await getSessionAndUser(tokenOf(worker))) === null) throw new Error('the prepared session is gone');
    },
    async updateSession(worker) {
      // Always a new expiry: user-engine's adapter skips the write when the expiry is unchanged.
      slide += 1;
      await updateSession({ sessionToken: tokenOf(worker), expires: new Date(Date.now() + 30 * DAY + slide * 1000) });
    },
  };
}

/**
 * `@auth/pg-adapter` on `pool`, whose search_path must reach tables made by
 * `AUTHJS_PG_SCHEMA_SQL` (created here when `createTables` is set). The
 * adapter is loaded here, so that a run without it installed reports it
 * rather than failing to start.
 */
export async function pgAdapterOps(pool: pg.Pool, options: { createTables?: boolean } = {}): Promise<AuthjsAdapterOps> {
  const { default: PostgresAdapter } = await import('@auth/pg-adapter');
  if (options.createTables === true) await pool.query(AUTHJS_PG_SCHEMA_SQL);
  return adapterOps('pg-adapter', PostgresAdapter(pool));
}

/** user-engine's adapter (`UserEngineAdapter(engine)` from `user-engine/authjs`), on a migrated store. */
export async function userEngineAdapterOps(adapter: Adapter): Promise<AuthjsAdapterOps> {
  return adapterOps('user-engine', adapter);
}

// The Auth.js adapter on the live server: the shared adapter cases through a
// pg Pool and postgres.js, the end-to-end flows through Auth() with a local
// OpenID Connect provider, the racing first sign-ins, and the import from
// tables that @auth/pg-adapter itself populated — in a scratch database this
// file creates and drops. Needs USER_ENGINE_TEST_DATABASE_URL.
import PostgresAdapter from '@auth/pg-adapter';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHJS_PG_SCHEMA_SQL } from '../bench/authjs-adapter-ops.js';
import { importFromAuthjsPg, UserEngineAdapter } from '../src/authjs/index.js';
import { UserEngine } from '../src/index.js';
import { fromPostgresJs, PostgresUserEngineStore } from '../src/postgres/index.js';
import { checkUserInvariants, runAuthjsAdapterCases, scratchSchemaName } from '../src/testing/index.js';
import {
  emailMagicLinkFlow,
  type LocalIdp,
  oidcFirstSignInRace,
  oidcSignUpThenSignInFlow,
  startLocalIdp,
} from './support/authjs-flows.js';
import { postgresFactory } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const live = url !== undefined && url !== '';
const liveDescribe = live ? describe : describe.skip;
const runner = { describe: liveDescribe, it, skip: it.skip };

const pool = live ? new pg.Pool({ connectionString: url, max: 10 }) : undefined;
const sql = live ? postgres(url, { max: 10, onnotice: () => {} }) : undefined;
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await Promise.all([pool?.end(), sql?.end()]);
});

if (pool !== undefined && sql !== undefined) {
  const makeStore = (connection: Parameters<typeof postgresFactory>[1], schema: string) =>
    new PostgresUserEngineStore({ connection, schema });
  runAuthjsAdapterCases(runner, 'live pg-pool', postgresFactory('authjs_pool', pool, makeStore));
  runAuthjsAdapterCases(runner, 'live postgres-js', postgresFactory('authjs_pjs', fromPostgresJs(sql), makeStore));
} else {
  liveDescribe('authjs adapter [live]', () => {
    it.skip('runs only with USER_ENGINE_TEST_DATABASE_URL set', () => {});
  });
}

liveDescribe('Auth.js end to end [live pg-pool]', () => {
  let idp: LocalIdp;
  beforeAll(async () => {
    idp = await startLocalIdp();
  });
  afterAll(async () => idp?.close());
  const store = () => {
    const schema = scratchSchemaName('authjs_e2e');
    schemas.push(schema);
    return new PostgresUserEngineStore({ connection: pool as pg.Pool, schema });
  };

  it('email magic link: the link signs in once, the session cookie reads the session, sign-out ends it', async () => {
    await emailMagicLinkFlow(store());
  });
  it('OIDC: the first sign-in creates and links the user, a later one signs in to the same user', async () => {
    await oidcSignUpThenSignInFlow(store(), idp);
  });
  it('20 concurrent first sign-ins of one new OIDC identity: one user, one account, no orphan', async () => {
    await oidcFirstSignInRace(store(), idp);
  });
  it('the same 20, held until all found no user (the worst interleaving): one user, one account, no orphan', async () => {
    await oidcFirstSignInRace(store(), idp, { held: true });
  });
});

/** Runs `work` with a pool on a scratch database it creates and drops. */
async function withScratchDatabase(work: (scratch: pg.Pool) => Promise<void>): Promise<void> {
  const database = scratchSchemaName('authjs_import');
  await (pool as pg.Pool).query(`CREATE DATABASE "${database}"`);
  const scratchUrl = new URL(url ?? '');
  scratchUrl.pathname = `/${database}`;
  const scratch = new pg.Pool({ connectionString: scratchUrl.href, max: 5 });
  try {
    await work(scratch);
  } finally {
    await scratch.end();
    await (pool as pg.Pool).query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }
}

liveDescribe('import from @auth/pg-adapter [live]', () => {
  it('moves users (keeping their ids), accounts (tokens sealed) and sessions written by @auth/pg-adapter, without loss; a re-run adds nothing', async () => {
    await withScratchDatabase(async (scratch) => {
      // The pg adapter's own documented tables, without our lower(email) index: the import must refuse, not merge, two spellings.
      await scratch.query(AUTHJS_PG_SCHEMA_SQL.replace(/CREATE UNIQUE INDEX users_email_lower[^;]*;/, ''));
      const source = PostgresAdapter(scratch) as Required<ReturnType<typeof PostgresAdapter>>;
      const week = new Date(Date.now() + 7 * 24 * 3_600_000);
      const users = [];
      for (let i = 0; i < 5; i++) {
        users.push(
          await source.createUser({
            id: '',
            name: i === 4 ? null : `Person ${i}`,
            email: `person${i}@example.com`,
            emailVerified: i % 2 === 0 ? new Date(`2026-01-0${i + 1}T10:00:00.000Z`) : null,
            image: i === 3 ? null : `https://images.example/${i}.png`,
          }),
        );
      }
      const twin = await source.createUser({ id: '', email: 'PERSON0@example.com', emailVerified: null, name: 'Twin' });
      const accounts = [];
      for (const [i, user] of users.entries()) {
        const account = {
          userId: user.id,
          type: 'oauth' as const,
          provider: i % 2 === 0 ? 'github' : 'google',
          providerAccountId: `subject-${i}`,
          access_token: `access-${i}-${Math.random()}`,
          refresh_token: i === 1 ? undefined : `refresh-${i}`,
          expires_at: 1_900_000_000 + i,
          token_type: 'bearer',
          scope: 'read:user',
          id_token: `id-token-${i}`,
          session_state: i === 2 ? 'state-2' : undefined,
        };
        await source.linkAccount(account as never);
        accounts.push(account);
      }
      await source.linkAccount({ userId: twin.id, type: 'oauth', provider: 'github', providerAccountId: 'twin' });
      const sessions = users.map((user, i) => ({
        sessionToken: `session-${i}-${Math.random()}`,
        userId: user.id,
        expires: week,
      }));
      for (const session of sessions) await source.createSession(session);
      await source.createSession({
        sessionToken: 'expired-session',
        userId: users[0]?.id ?? '',
        expires: new Date(Date.now() - 1000),
      });
      await source.createSession({ sessionToken: 'twin-session', userId: twin.id, expires: week });
      await source.createVerificationToken({
        identifier: 'person1@example.com',
        token: 'hashed-token-1',
        expires: week,
      });
      const sourceCounts = async () =>
        (
          await scratch.query(
            `SELECT (SELECT count(*) FROM users) u, (SELECT count(*) FROM accounts) a, (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM verification_token) v`,
          )
        ).rows[0];
      const countsBefore = await sourceCounts();

      const store = new PostgresUserEngineStore({ connection: scratch, schema: 'user_engine_import' });
      await store.migrate();
      const engine = new UserEngine({ store });
      const key = Buffer.alloc(32, 9);
      const report = await importFromAuthjsPg(scratch, engine, { tokenEncryptionKey: key });
      expect(report).toMatchObject({ users: 5, usersAlreadyThere: 0, accounts: 5, sessions: 5 });
      expect(report.skipped).toEqual(
        expect.arrayContaining([
          { table: 'users', id: String(twin.id), reason: 'email_taken' },
          { table: 'accounts', id: expect.any(String), reason: 'no_user' },
          { table: 'sessions', id: expect.any(String), reason: 'expired' },
          { table: 'sessions', id: expect.any(String), reason: 'no_user' },
        ]),
      );
      expect(report.skipped).toHaveLength(4);
      expect(JSON.stringify(report)).not.toContain('@example.com');

      const adapter = UserEngineAdapter(engine, { tokenEncryptionKey: key });
      for (const [i, user] of users.entries()) {
        // Same id, same fields, as Auth.js would read them from either adapter.
        const before = await source.getUser(String(user.id));
        const after = await adapter.getUser(String(user.id));
        expect(after).toEqual({ ...before, id: String(before?.id) });
        const account = accounts[i];
        if (account === undefined) throw new Error('no account');
        expect(await adapter.getUserByAccount(account)).toEqual(after);
        const expected = Object.fromEntries(Object.entries(account).filter(([, v]) => v !== undefined));
        expect(await adapter.getAccount(account.providerAccountId, account.provider)).toEqual({
          ...expected,
          userId: String(user.id),
        });
        const session = sessions[i];
        const read = await adapter.getSessionAndUser(session?.sessionToken ?? '');
        expect(read?.user.id).toBe(String(user.id));
        expect(read?.session.expires.getTime()).toBe(week.getTime());
      }
      expect(
        await adapter.useVerificationToken({ identifier: 'person1@example.com', token: 'hashed-token-1' }),
        'verification tokens are not carried over',
      ).toBeNull();
      expect(await adapter.getUserByEmail('PERSON0@EXAMPLE.COM')).toMatchObject({ id: String(users[0]?.id) });
      // Nothing of the source changed; the tokens are sealed; the engine's invariants hold.
      expect(await sourceCounts()).toEqual(countsBefore);
      const records = (await scratch.query('SELECT data::text AS d FROM user_engine_import.records')).rows
        .map((r) => r.d)
        .join('\n');
      for (const account of accounts) expect(records).not.toContain(account.access_token);
      for (const session of sessions) expect(records).not.toContain(session.sessionToken);
      expect((await checkUserInvariants(store)).failures).toEqual([]);
      // A second run finds everything there and adds nothing.
      const rerun = await importFromAuthjsPg(scratch, engine, { tokenEncryptionKey: key });
      expect(rerun).toMatchObject({ users: 0, usersAlreadyThere: 5, accounts: 0, sessions: 0 });
      expect((await store.recordCounts()).records).toMatchObject({ user: 5, 'authjs-account': 5, 'authjs-session': 5 });
    });
  }, 120_000);
});

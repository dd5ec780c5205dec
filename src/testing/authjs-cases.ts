import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { AdapterAccount, AdapterUser } from '@auth/core/adapters';
import { UserEngineAdapter, type UserEngineAuthjsAdapter } from '../authjs/adapter.js';
import { UserEngine } from '../engine/engine.js';
import type { JsonObject } from '../store/json.js';
import type { UserEngineStore } from '../store/store.js';
import { rejectsWith } from './assertions.js';
import { registerSuite, type StoreFactory, type SuiteCase, type SuiteOptions, type TestRunner } from './harness.js';
import { checkUserInvariants } from './invariants.js';
import { dumpStore } from './read-all.js';

/** What an Auth.js adapter case gets: a migrated store, an engine on it, and adapters with and without a token key. */
export interface AuthjsCaseContext {
  store: UserEngineStore;
  engine: UserEngine;
  /** An adapter that keeps OAuth tokens as plain JSON in their account records. */
  adapter: UserEngineAuthjsAdapter;
  /** An adapter over the same engine that seals OAuth tokens with `tokenKey`. */
  sealed: UserEngineAuthjsAdapter;
  /** The 32-byte key `sealed` uses. */
  tokenKey: Uint8Array;
}

type AuthjsCase = SuiteCase<AuthjsCaseContext>;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const HOUR = 3_600_000;
const inAWeek = () => new Date(Math.floor((Date.now() + 7 * 24 * HOUR) / 1000) * 1000);

/** A user as Auth.js hands one to createUser after an OAuth sign-in: the provider's profile. */
function profile(overrides: Partial<AdapterUser> = {}): AdapterUser {
  return {
    id: randomUUID(),
    name: 'Fill Murray',
    email: 'fill@murray.example',
    image: 'https://images.example/fill.png',
    emailVerified: null,
    ...overrides,
  };
}

function oauthAccount(userId: string, overrides: Partial<AdapterAccount> = {}): AdapterAccount {
  return {
    userId,
    type: 'oidc',
    provider: 'github',
    providerAccountId: `gh-${randomUUID()}`,
    access_token: `at-${randomUUID()}`,
    refresh_token: `rt-${randomUUID()}`,
    id_token: `idt-${randomUUID()}`,
    expires_at: 1_900_000_000,
    token_type: 'bearer',
    scope: 'openid email profile',
    session_state: `ss-${randomUUID()}`,
    ...overrides,
  };
}

/** Values that must never be in audit details, events or errors. */
function personalValuesOf(user: AdapterUser, account?: AdapterAccount): string[] {
  const values = [user.email, user.name ?? '', user.image ?? ''];
  if (account !== undefined) {
    values.push(account.providerAccountId, String(account.access_token), String(account.refresh_token));
    values.push(String(account.id_token), String(account.session_state));
  }
  return values.filter((v) => v !== '');
}

/** The Auth.js adapter cases, for runners other than `runAuthjsAdapterCases`. */
export const authjsAdapterCases: readonly AuthjsCase[] = [
  {
    name: 'createUser registers an engine user: name → displayName, image and other fields → attributes, a new stable id; getUser reads it back',
    async run({ adapter, engine, store }) {
      const given = profile({ emailVerified: new Date('2026-02-03T04:05:06.007Z'), plan: 'pro' } as never);
      const created = await adapter.createUser(given);
      assert.notEqual(created.id, given.id, 'the engine names the user (UUIDv7), not the provider profile');
      assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      assert.deepEqual(created, { ...given, id: created.id });
      assert.ok(created.emailVerified instanceof Date);
      assert.deepEqual(await adapter.getUser(created.id), created);
      const user = await engine.getUser(created.id);
      assert.equal(user?.displayName, 'Fill Murray');
      assert.equal(user?.emailVerifiedAt, '2026-02-03T04:05:06.007Z');
      assert.deepEqual(user?.attributes, { image: given.image, plan: 'pro' });
      const [entry] = await store.readAudit();
      assert.equal(entry?.action, 'user.registered');
      assert.equal(entry?.actor, 'authjs');
      assert.deepEqual(entry?.detail.fields, ['email', 'emailVerifiedAt', 'displayName', 'attributes']);
      const minimal = await adapter.createUser(profile({ email: 'min@example.com', name: null, image: null }));
      assert.deepEqual(minimal, {
        id: minimal.id,
        name: null,
        email: 'min@example.com',
        emailVerified: null,
        image: null,
      });
    },
  },
  {
    name: 'lookups return null for the unknown, the erased and input that is no key; getUserByEmail matches any spelling',
    async run({ adapter, engine }) {
      const user = await adapter.createUser(profile({ email: 'Ada@Example.com' }));
      assert.equal(await adapter.getUser(randomUUID()), null);
      assert.equal(await adapter.getUser(''), null);
      assert.equal(await adapter.getUserByEmail('non-existent-email'), null);
      assert.equal(await adapter.getUserByEmail('nobody@example.com'), null);
      assert.deepEqual(await adapter.getUserByEmail('ADA@example.COM'), user);
      assert.equal(await adapter.getUserByAccount({ provider: 'invalid provider', providerAccountId: 'x' }), null);
      assert.equal(await adapter.getUserByAccount({ provider: 'github', providerAccountId: 'nobody' }), null);
      assert.equal(await adapter.getAccount('nobody', 'github'), null);
      await engine.eraseUser({ actor: 'dpo' }, user.id);
      assert.equal(await adapter.getUser(user.id), null, 'an erased user is gone to Auth.js');
      assert.equal(await adapter.getUserByEmail('ada@example.com'), null);
    },
  },
  {
    name: 'email uniqueness holds for Auth.js: createUser with another spelling of a taken address is email_taken, nothing written',
    async run({ adapter, store }) {
      await adapter.createUser(profile({ email: 'taken@example.com' }));
      const before = await dumpStore(store);
      await rejectsWith(adapter.createUser(profile({ email: 'TAKEN@Example.com' })), 'email_taken');
      assert.equal(await dumpStore(store), before);
      await rejectsWith(adapter.createUser(profile({ email: null as never })), 'invalid_input');
    },
  },
  {
    name: 'updateUser applies name, image, extra fields, email and emailVerified as engine commands; another address clears the verification',
    async run({ adapter, engine, store }) {
      const user = await adapter.createUser(profile({ email: 'up@example.com' }));
      let updated = await adapter.updateUser({ id: user.id, name: 'Updated Name' });
      assert.equal(updated.name, 'Updated Name');
      assert.equal((await adapter.getUser(user.id))?.name, 'Updated Name');
      const verifiedAt = new Date('2026-05-06T07:08:09.010Z');
      updated = await adapter.updateUser({ id: user.id, emailVerified: verifiedAt });
      assert.equal(updated.emailVerified?.toISOString(), verifiedAt.toISOString());
      updated = await adapter.updateUser({ id: user.id, image: 'https://images.example/new.png', tier: 2 } as never);
      assert.equal(updated.image, 'https://images.example/new.png');
      assert.equal((updated as unknown as { tier: number }).tier, 2);
      assert.equal(updated.name, 'Updated Name', 'fields not given stay');
      updated = await adapter.updateUser({ id: user.id, email: 'moved@example.com' });
      assert.equal(updated.email, 'moved@example.com');
      assert.equal(updated.emailVerified, null, 'the new address is not proved');
      updated = await adapter.updateUser({ id: user.id, email: 'elsewhere@example.com', emailVerified: verifiedAt });
      assert.equal(updated.emailVerified?.toISOString(), verifiedAt.toISOString());
      updated = await adapter.updateUser({ id: user.id, emailVerified: null });
      assert.equal(updated.emailVerified, null);
      assert.deepEqual(await adapter.getUser(user.id), updated);
      const actions = (await store.readAudit({ recordKey: `user:${user.id}` })).map((e) => e.action);
      assert.deepEqual(actions, [
        'user.registered',
        'user.profile_updated',
        'user.email_verified',
        'user.profile_updated',
        'user.email_changed',
        'user.email_changed',
        'user.email_verified',
        'user.email_unverified',
      ]);
      // Concurrent updates of different attributes (Auth.js events, the application) lose nothing.
      await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((key) => adapter.updateUser({ id: user.id, [key]: key } as never)),
      );
      const attributes = (await engine.getUser(user.id))?.attributes as JsonObject;
      for (const key of ['a', 'b', 'c', 'd', 'e']) assert.equal(attributes[key], key);
      await rejectsWith(adapter.updateUser({ id: randomUUID(), name: 'x' }), 'not_found');
      const other = await adapter.createUser(profile({ email: 'other@example.com' }));
      await rejectsWith(adapter.updateUser({ id: other.id, email: 'ELSEWHERE@example.com' }), 'email_taken');
    },
  },
  {
    name: 'linkAccount links the identity and keeps every token field in its own record, never in the user record, audit or outbox',
    async run({ adapter, engine, store }) {
      const user = await adapter.createUser(profile());
      const account = oauthAccount(user.id, { custom_field: 'kept' } as never);
      assert.deepEqual(await adapter.linkAccount(account), account);
      assert.deepEqual((await engine.getUser(user.id))?.identities, [
        { provider: 'github', subject: account.providerAccountId },
      ]);
      assert.deepEqual(await adapter.getUserByAccount(account), user);
      assert.deepEqual(await adapter.getAccount(account.providerAccountId, 'github'), account);
      const userRecord = JSON.stringify(await store.getRecord('user', user.id));
      const log = JSON.stringify([await store.readAudit({ limit: 1000 }), await store.pendingOutbox({ limit: 1000 })]);
      for (const token of [account.access_token, account.refresh_token, account.id_token, account.session_state]) {
        assert.ok(!userRecord.includes(String(token)), 'a token in the user record');
        assert.ok(!log.includes(String(token)), 'a token in the audit log or outbox');
      }
      const accounts = await store.listRecords('authjs-account');
      assert.equal(accounts.length, 1);
      assert.equal(accounts[0]?.id, `github:${account.providerAccountId}`);
      const audit = await store.readAudit({ recordKey: `user:${user.id}` });
      assert.deepEqual(audit[1]?.detail, { fields: ['identities'], userId: user.id, version: 2 });
      // The identity belongs to one user; an unknown user links nothing.
      const other = await adapter.createUser(profile({ email: 'two@example.com' }));
      const before = await dumpStore(store);
      await rejectsWith(adapter.linkAccount({ ...account, userId: other.id }), 'identity_taken');
      await rejectsWith(adapter.linkAccount(oauthAccount(randomUUID())), 'not_found');
      await rejectsWith(adapter.linkAccount(oauthAccount(other.id, { provider: 'Git Hub' })), 'invalid_input');
      await rejectsWith(adapter.linkAccount(oauthAccount(other.id, { type: 'saml' as never })), 'invalid_input');
      assert.equal(await dumpStore(store), before, 'a refused link writes nothing');
    },
  },
  {
    name: 'with a key, tokens are sealed with AES-256-GCM: no token in the store, opened only with the key and only on their own account',
    async run({ adapter, sealed, store, engine, tokenKey }) {
      const user = await sealed.createUser(profile());
      const account = oauthAccount(user.id);
      await sealed.linkAccount(account);
      const dump = await dumpStore(store);
      for (const token of [account.access_token, account.refresh_token, account.id_token, account.session_state]) {
        assert.ok(!dump.includes(String(token)), 'a sealed token is readable in the store');
      }
      const [record] = await store.listRecords('authjs-account');
      const tokens = record?.data.tokens as JsonObject;
      assert.equal(tokens.alg, 'A256GCM');
      assert.equal(tokens.kid, createHash('sha256').update(tokenKey).digest('hex').slice(0, 16));
      assert.deepEqual(await sealed.getAccount(account.providerAccountId, 'github'), account);
      await rejectsWith(adapter.getAccount(account.providerAccountId, 'github'), 'invalid_state');
      // Rotation: a new key seals, the old one still opens.
      const rotated = UserEngineAdapter(engine, {
        tokenEncryptionKey: randomBytes(32),
        previousTokenEncryptionKeys: [Buffer.from(tokenKey).toString('base64')],
      });
      assert.deepEqual(await rotated.getAccount(account.providerAccountId, 'github'), account);
      // A sealed blob moved onto another account does not open there.
      const other = await sealed.createUser(profile({ email: 'victim@example.com' }));
      const victim = oauthAccount(other.id);
      await sealed.linkAccount(victim);
      const victimId = `github:${victim.providerAccountId}`;
      await store.transaction(async (tx) => {
        const target = await tx.get('authjs-account', victimId);
        assert.ok(target && record);
        tx.put({
          kind: 'authjs-account',
          id: victimId,
          data: { ...target.data, tokens },
          expectedVersion: target.version,
        });
      });
      await rejectsWith(sealed.getAccount(victim.providerAccountId, 'github'), 'invalid_state');
      assert.throws(() => UserEngineAdapter(engine, { tokenEncryptionKey: randomBytes(16) }), /32 bytes/);
    },
  },
  {
    name: 'unlinkAccount unlinks the identity and deletes its tokens in one transaction; unknown accounts give undefined',
    async run({ adapter, engine, store }) {
      const user = await adapter.createUser(profile());
      const account = oauthAccount(user.id);
      await adapter.linkAccount(account);
      assert.deepEqual(await adapter.unlinkAccount(account), account);
      assert.equal(await adapter.getUserByAccount(account), null);
      assert.equal(await adapter.getAccount(account.providerAccountId, 'github'), null);
      assert.deepEqual((await engine.getUser(user.id))?.identities, []);
      assert.equal((await store.recordCounts()).records['authjs-account'], undefined);
      assert.equal(await adapter.unlinkAccount(account), undefined);
      assert.equal(await adapter.unlinkAccount({ provider: 'Bad Provider', providerAccountId: 'x' }), undefined);
      // Linking again after an unlink works: the identity was released with its tokens.
      await adapter.linkAccount(account);
      assert.deepEqual(await adapter.getAccount(account.providerAccountId, 'github'), account);
    },
  },
  {
    name: 'sessions: stored under the SHA-256 of the token (never the token), read with the user, extended without audit, deleted with it',
    async run({ adapter, store }) {
      const user = await adapter.createUser(profile());
      const sessionToken = randomUUID();
      const expires = inAWeek();
      const created = await adapter.createSession({ sessionToken, userId: user.id, expires });
      assert.deepEqual(created, { sessionToken, userId: user.id, expires });
      const [record] = await store.listRecords('authjs-session');
      assert.equal(record?.id, sha256(sessionToken), 'the record id is the hash');
      assert.ok(!(await dumpStore(store)).includes(sessionToken), 'the token itself is nowhere in the store');
      const read = await adapter.getSessionAndUser(sessionToken);
      assert.deepEqual(read, { session: { sessionToken, userId: user.id, expires }, user });
      assert.ok(read?.session.expires instanceof Date);
      assert.equal(await adapter.getSessionAndUser('invalid-token'), null);
      assert.equal(await adapter.getSessionAndUser(''), null);
      const auditBefore = (await store.recordCounts()).audit;
      const later = new Date(expires.getTime() + 30 * 24 * HOUR);
      assert.deepEqual(await adapter.updateSession({ sessionToken, expires: later }), {
        sessionToken,
        userId: user.id,
        expires: later,
      });
      assert.equal((await adapter.getSessionAndUser(sessionToken))?.session.expires.getTime(), later.getTime());
      assert.equal((await store.recordCounts()).audit, auditBefore, 'extending a session is not audited');
      assert.equal(await adapter.updateSession({ sessionToken: 'gone', expires: later }), null);
      await rejectsWith(adapter.updateSession({ sessionToken, userId: randomUUID(), expires: later }), 'invalid_input');
      assert.deepEqual(await adapter.deleteSession(sessionToken), { sessionToken, userId: user.id, expires: later });
      assert.equal(await adapter.getSessionAndUser(sessionToken), null);
      assert.equal(await adapter.deleteSession(sessionToken), null);
      const sessionAudit = (await store.readAudit({ limit: 1000 })).filter((e) => e.action.startsWith('user.signed'));
      assert.deepEqual(
        sessionAudit.map((e) => [e.action, e.recordKey, e.detail]),
        [
          [
            'user.signed_in',
            `authjs-session:${sha256(sessionToken)}`,
            { session: sha256(sessionToken), userId: user.id },
          ],
          [
            'user.signed_out',
            `authjs-session:${sha256(sessionToken)}`,
            { session: sha256(sessionToken), userId: user.id },
          ],
        ],
      );
      const topics = (await store.pendingOutbox({ limit: 1000 })).map((m) => m.topic);
      assert.deepEqual(
        topics.filter((t) => t.startsWith('user.signed')),
        ['user.signed_in', 'user.signed_out'],
      );
      assert.deepEqual((await checkUserInvariants(store)).failures, []);
    },
  },
  {
    name: 'only active users have sessions: a suspended user cannot sign in and its sessions read as none; unknown users cannot sign in',
    async run({ adapter, engine }) {
      const user = await adapter.createUser(profile());
      const sessionToken = randomUUID();
      await adapter.createSession({ sessionToken, userId: user.id, expires: inAWeek() });
      await engine.suspendUser({ actor: 'admin' }, user.id, { reason: 'abuse' });
      assert.equal(await adapter.getSessionAndUser(sessionToken), null);
      await rejectsWith(
        adapter.createSession({ sessionToken: randomUUID(), userId: user.id, expires: inAWeek() }),
        'invalid_state',
      );
      await engine.reactivateUser({ actor: 'admin' }, user.id);
      assert.equal((await adapter.getSessionAndUser(sessionToken))?.user.id, user.id);
      await rejectsWith(
        adapter.createSession({ sessionToken: randomUUID(), userId: randomUUID(), expires: inAWeek() }),
        'not_found',
      );
    },
  },
  {
    name: 'verification tokens: kept as a hash with the expiry only, used exactly once — even by ten requests racing for it',
    async run({ adapter, store }) {
      const identifier = 'magic@example.com';
      const token = sha256(`${randomUUID()}secret`);
      const expires = new Date(Date.now() + 15 * 60_000);
      assert.deepEqual(await adapter.createVerificationToken({ identifier, token, expires }), {
        identifier,
        token,
        expires,
      });
      const dump = await dumpStore(store);
      assert.ok(!dump.includes(identifier) && !dump.includes(token), 'neither identifier nor token is stored');
      assert.equal(await adapter.useVerificationToken({ identifier: 'other@example.com', token }), null);
      assert.deepEqual(await adapter.useVerificationToken({ identifier, token }), { identifier, token, expires });
      assert.equal(await adapter.useVerificationToken({ identifier, token }), null);
      const raced = sha256(`${randomUUID()}secret`);
      await adapter.createVerificationToken({ identifier, token: raced, expires });
      const uses = await Promise.all(
        Array.from({ length: 10 }, () => adapter.useVerificationToken({ identifier, token: raced })),
      );
      assert.equal(uses.filter((u) => u !== null).length, 1, 'exactly one request gets the token');
      assert.equal((await store.recordCounts()).records['authjs-verification'], undefined);
    },
  },
  {
    name: 'deleteUser is erasure: tombstone, accounts and sessions gone in one transaction, no personal value or token left in the store',
    async run({ adapter, engine, store }) {
      const user = await adapter.createUser(profile({ email: 'grace@hopper.example', name: 'Grace Hopper' }));
      const account = oauthAccount(user.id, { providerAccountId: 'github-subject-8675309' });
      await adapter.linkAccount(account);
      const second = oauthAccount(user.id, { provider: 'gitlab', providerAccountId: 'gitlab-subject-31337' });
      await adapter.linkAccount(second);
      const tokens = [randomUUID(), randomUUID(), randomUUID()];
      for (const sessionToken of tokens)
        await adapter.createSession({ sessionToken, userId: user.id, expires: inAWeek() });
      const bystander = await adapter.createUser(
        profile({ email: 'bystander@example.com', name: 'By Stander', image: 'https://images.example/by.png' }),
      );
      const kept = randomUUID();
      await adapter.createSession({ sessionToken: kept, userId: bystander.id, expires: inAWeek() });
      assert.ok((await dumpStore(store)).includes('grace@hopper.example'), 'sanity: the dump sees personal data');
      const deleted = await adapter.deleteUser(user.id);
      assert.equal(deleted?.id, user.id);
      assert.equal(await adapter.getUser(user.id), null);
      for (const sessionToken of tokens) assert.equal(await adapter.getSessionAndUser(sessionToken), null);
      assert.equal(await adapter.getUserByAccount(account), null);
      assert.equal(await adapter.getAccount(account.providerAccountId, 'github'), null);
      assert.equal((await engine.getUser(user.id))?.status, 'erased', 'a tombstone keeps the id');
      const dump = await dumpStore(store);
      for (const value of [...personalValuesOf(user, account), ...personalValuesOf(user, second), ...tokens]) {
        assert.ok(!dump.includes(value), `erased value ${JSON.stringify(value)} is still in the store`);
      }
      const counts = await store.recordCounts();
      assert.equal(counts.records['authjs-account'], undefined);
      assert.equal(counts.records['authjs-session'], 1, "only the bystander's session is left");
      assert.equal((await adapter.getSessionAndUser(kept))?.user.id, bystander.id);
      const erasure = (await store.readAudit({ recordKey: `user:${user.id}` })).at(-1);
      assert.equal(erasure?.action, 'user.erased');
      assert.equal(await adapter.deleteUser(user.id), null, 'deleting again finds nothing');
      assert.equal(await adapter.deleteUser(randomUUID()), null);
      assert.deepEqual((await checkUserInvariants(store)).failures, []);
    },
  },
  {
    name: 'pruneExpired removes expired sessions and tokens, sessions of users erased elsewhere, and tokens of identities unlinked elsewhere',
    async run({ store, engine }) {
      let now = new Date();
      const adapter = UserEngineAdapter(engine, { clock: () => now });
      const user = await adapter.createUser(profile());
      const past = new Date(Date.now() - HOUR);
      const live = randomUUID();
      await adapter.createSession({ sessionToken: live, userId: user.id, expires: inAWeek() });
      for (let i = 0; i < 3; i++)
        await adapter.createSession({ sessionToken: randomUUID(), userId: user.id, expires: past });
      await adapter.createVerificationToken({ identifier: 'a@example.com', token: 'expired', expires: past });
      await adapter.createVerificationToken({ identifier: 'a@example.com', token: 'valid', expires: inAWeek() });
      const account = oauthAccount(user.id);
      await adapter.linkAccount(account);
      await engine.unlinkIdentity({ actor: 'admin' }, user.id, {
        provider: 'github',
        subject: account.providerAccountId,
      });
      const erased = await adapter.createUser(profile({ email: 'erased-elsewhere@example.com' }));
      await adapter.createSession({ sessionToken: randomUUID(), userId: erased.id, expires: inAWeek() });
      await engine.eraseUser({ actor: 'admin' }, erased.id);
      const auditBefore = (await store.recordCounts()).audit;
      assert.deepEqual(await adapter.pruneExpired({ limit: 2 }), { sessions: 4, verificationTokens: 1, accounts: 1 });
      assert.equal((await store.recordCounts()).audit, auditBefore, 'pruning is housekeeping, not a sign-out');
      assert.equal((await adapter.getSessionAndUser(live))?.user.id, user.id);
      assert.notEqual(await adapter.useVerificationToken({ identifier: 'a@example.com', token: 'valid' }), null);
      assert.deepEqual(await adapter.pruneExpired(), { sessions: 0, verificationTokens: 0, accounts: 0 });
      const lists = await store.listRecords('authjs-user-sessions');
      assert.deepEqual(
        lists.map((l) => [l.id, l.data.sessions]),
        [[user.id, [sha256(live)]]],
      );
      now = new Date(Date.now() + 30 * 24 * HOUR);
      assert.deepEqual(await adapter.pruneExpired(), { sessions: 1, verificationTokens: 0, accounts: 0 });
      assert.equal((await store.recordCounts()).records['authjs-user-sessions'], undefined);
      await rejectsWith(adapter.pruneExpired({ limit: 0 }), 'invalid_input');
    },
  },
  {
    name: 'first sign-ins of one new OAuth identity, raced as Auth.js calls the adapter: one user, one account, no orphan',
    async run({ adapter, store }) {
      const email = 'race@example.com';
      const providerAccountId = `race-${randomUUID()}`;
      // What Auth.js's callback does for an OAuth sign-in with no session: look up, create, link, sign in.
      const signIn = async () => {
        const known = await adapter.getUserByAccount({ provider: 'github', providerAccountId });
        if (known !== null)
          return adapter.createSession({ sessionToken: randomUUID(), userId: known.id, expires: inAWeek() });
        if ((await adapter.getUserByEmail(email)) !== null) throw new Error('OAuthAccountNotLinked');
        const user = await adapter.createUser(profile({ email }));
        await adapter.linkAccount(oauthAccount(user.id, { providerAccountId }));
        return adapter.createSession({ sessionToken: randomUUID(), userId: user.id, expires: inAWeek() });
      };
      const results = await Promise.allSettled(Array.from({ length: 20 }, signIn));
      const signedIn = results.filter((r) => r.status === 'fulfilled');
      assert.ok(signedIn.length >= 1);
      for (const r of results) {
        if (r.status === 'rejected') {
          const reason = r.reason as { code?: string; message?: string };
          assert.ok(reason.code === 'email_taken' || reason.message === 'OAuthAccountNotLinked', String(r.reason));
        }
      }
      const counts = await store.recordCounts();
      assert.equal(counts.records.user, 1, 'one user');
      assert.equal(counts.records['authjs-account'], 1, 'one account');
      assert.equal(counts.records['user-identity'], 1);
      assert.equal(counts.records['authjs-session'], signedIn.length);
      const [user] = await store.listRecords('user');
      assert.equal((user?.data.identities as unknown[] | undefined)?.length, 1, 'the user is linked: no orphan');
      assert.deepEqual((await checkUserInvariants(store)).failures, []);
    },
  },
  {
    name: 'no adapter error carries a personal value or a token',
    async run({ adapter, sealed }) {
      const user = await adapter.createUser(profile({ email: 'secret.person@example.com', name: 'Secret Person' }));
      const account = oauthAccount(user.id, { providerAccountId: 'subject-4242-secret' });
      await adapter.linkAccount(account);
      const values = personalValuesOf(user, account);
      const scan = async (label: string, promise: Promise<unknown>, code: string) => {
        const error = await rejectsWith(promise, code, label);
        const text = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`.toLowerCase();
        for (const value of values) assert.ok(!text.includes(value.toLowerCase()), `${label}: ${code} carries a value`);
      };
      await scan('email taken', adapter.createUser(profile({ email: 'SECRET.person@example.com' })), 'email_taken');
      await scan(
        'identity taken',
        adapter.linkAccount({ ...account, userId: (await adapter.createUser(profile({ email: 'x@example.com' }))).id }),
        'identity_taken',
      );
      await scan('bad name', adapter.updateUser({ id: user.id, name: `${user.name}\n` }), 'invalid_input');
      await scan(
        'sealed elsewhere',
        sealed.linkAccount({ ...account, providerAccountId: 'subject-4242-secret' }),
        'identity_taken',
      );
      await scan(
        'bad token field',
        adapter.linkAccount(oauthAccount(user.id, { access_token: account.access_token, when: new Date() } as never)),
        'invalid_input',
      );
    },
  },
];

/**
 * Registers the Auth.js adapter cases with a test runner: each on a fresh,
 * migrated store from `factory`, with an engine and two adapters on it (one
 * sealing tokens with a random key).
 *
 * @example
 * import { describe, it } from 'vitest';
 * runAuthjsAdapterCases({ describe, it }, 'memory', async () => ({ store: new InMemoryUserEngineStore() }));
 */
export function runAuthjsAdapterCases(
  runner: TestRunner,
  storeName: string,
  factory: StoreFactory,
  options: SuiteOptions = {},
): void {
  registerSuite(
    runner,
    `authjs adapter [${storeName}]`,
    authjsAdapterCases,
    async () => {
      const handle = await factory();
      await handle.store.migrate();
      const engine = new UserEngine({ store: handle.store });
      const tokenKey = new Uint8Array(randomBytes(32));
      return {
        context: {
          store: handle.store,
          engine,
          adapter: UserEngineAdapter(engine),
          sealed: UserEngineAdapter(engine, { tokenEncryptionKey: tokenKey }),
          tokenKey,
        },
        teardown: async () => handle.teardown?.(),
      };
    },
    options,
  );
}

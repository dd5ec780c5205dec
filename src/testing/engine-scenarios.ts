import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { UserEngine } from '../engine/engine.js';
import type { User } from '../engine/user.js';
import { UserEngineError } from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import type { UserEngineStore } from '../store/store.js';
import { rejectsWith } from './assertions.js';
import { registerSuite, type StoreFactory, type SuiteCase, type SuiteOptions, type TestRunner } from './harness.js';
import { checkUserInvariants } from './invariants.js';
import { dumpStore } from './read-all.js';

/** What an engine scenario gets: a migrated store and an engine on it. */
export interface EngineScenarioContext {
  engine: UserEngine;
  store: UserEngineStore;
}

type Scenario = SuiteCase<EngineScenarioContext>;

const admin = { actor: 'admin:1' };

async function register(
  engine: UserEngine,
  email: string,
  extra: Partial<Parameters<UserEngine['registerUser']>[1]> = {},
) {
  return engine.registerUser(admin, { email, ...extra });
}

/** Values that must never appear in an error; `schema_not_ready` and exhausted retries are scanned in unit tests. */
const personal = {
  email: 'Grace.Hopper@Example.org',
  handle: 'amazing_grace',
  displayName: 'Grace Brewster Hopper',
  locale: 'en-US',
  attributes: { favouriteShip: 'USS Hopper', nested: { birthplace: 'New York City' } } as JsonObject,
  subject: 'github-subject-8675309',
  reason: 'suspicious login from Cobol Island',
};

const PERSONAL_VALUES = [
  personal.email,
  personal.handle,
  personal.displayName,
  personal.subject,
  personal.reason,
  'USS Hopper',
];

/** The engine scenarios, for runners other than `runEngineScenarios`. */
export const engineScenarios: readonly Scenario[] = [
  {
    name: 'the full lifecycle: register, update, change email and handle, link, grant, suspend, reactivate, unlink, revoke, erase',
    async run({ engine }) {
      let user = await engine.registerUser(
        { actor: 'signup' },
        {
          email: ' Ada@Example.com ',
          handle: 'Ada_L',
          displayName: 'Ada',
          locale: 'en-gb',
          attributes: { plan: 'pro' },
        },
      );
      assert.equal(user.version, 1);
      assert.equal(user.status, 'active');
      assert.equal(user.email, 'Ada@Example.com', 'email kept as given, trimmed');
      assert.equal(user.handle, 'ada_l', 'handle stored lower-case');
      assert.equal(user.locale, 'en-GB', 'locale canonicalized');
      assert.match(user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'UUIDv7 id');
      assert.deepEqual(await engine.getUser(user.id), user);
      user = await engine.updateProfile(admin, user.id, { displayName: 'Ada Lovelace', attributes: { plan: 'team' } });
      assert.equal(user.version, 2);
      assert.equal(user.displayName, 'Ada Lovelace');
      assert.equal(user.locale, 'en-GB');
      user = await engine.changeEmail(admin, user.id, 'ada@lovelace.dev');
      user = await engine.changeHandle(admin, user.id, 'countess');
      user = await engine.linkIdentity(admin, user.id, { provider: 'github', subject: '42' });
      user = await engine.grantRole(admin, user.id, 'editor');
      user = await engine.suspendUser(admin, user.id, { reason: 'chargeback' });
      assert.equal(user.status, 'suspended');
      user = await engine.reactivateUser(admin, user.id);
      assert.equal(user.status, 'active');
      user = await engine.unlinkIdentity(admin, user.id, { provider: 'github', subject: '42' });
      user = await engine.revokeRole(admin, user.id, 'editor');
      assert.equal(user.version, 10);
      user = await engine.eraseUser(admin, user.id);
      assert.equal(user.version, 11);
      assert.deepEqual(
        { ...user, createdAt: '', updatedAt: '' },
        {
          id: user.id,
          version: 11,
          status: 'erased',
          email: null,
          emailVerifiedAt: null,
          handle: null,
          displayName: null,
          locale: null,
          roles: [],
          identities: [],
          attributes: {},
          createdAt: '',
          updatedAt: '',
        },
      );
      assert.deepEqual(await engine.getUser(user.id), user, 'the tombstone reads back');
    },
  },
  {
    name: 'every command writes one audit entry and one outbox event, with the right action and topic, in order',
    async run({ engine, store }) {
      const u = await register(engine, 'order@example.com', { handle: 'order' });
      await engine.updateProfile(admin, u.id, { locale: 'fr' });
      await engine.changeEmail(admin, u.id, 'order2@example.com');
      await engine.changeHandle(admin, u.id, null);
      await engine.linkIdentity(admin, u.id, { provider: 'google', subject: 'g1' });
      await engine.unlinkIdentity(admin, u.id, { provider: 'google', subject: 'g1' });
      await engine.grantRole(admin, u.id, 'viewer');
      await engine.revokeRole(admin, u.id, 'viewer');
      await engine.suspendUser(admin, u.id, { reason: 'r' });
      await engine.reactivateUser(admin, u.id);
      await engine.eraseUser({ actor: 'dpo' }, u.id);
      const expected = [
        'user.registered',
        'user.profile_updated',
        'user.email_changed',
        'user.handle_changed',
        'user.identity_linked',
        'user.identity_unlinked',
        'user.role_granted',
        'user.role_revoked',
        'user.suspended',
        'user.reactivated',
        'user.erased',
      ];
      const audit = await store.readAudit();
      const outbox = await store.pendingOutbox();
      assert.deepEqual(
        audit.map((e) => e.action),
        expected,
      );
      assert.deepEqual(
        outbox.map((m) => m.topic),
        expected,
      );
      audit.forEach((entry, i) => {
        assert.equal(entry.recordKey, `user:${u.id}`);
        assert.equal(entry.detail.userId, u.id);
        assert.equal(entry.detail.version, i + 1);
        assert.ok(Array.isArray(entry.detail.fields));
      });
      assert.equal(audit[0]?.actor, 'admin:1');
      assert.equal(audit[10]?.actor, 'dpo');
      assert.deepEqual(audit[1]?.detail.fields, ['locale']);
      for (const m of outbox) assert.equal(m.key, u.id);
      const counts = await store.recordCounts();
      assert.equal(counts.audit, 11);
      assert.equal(counts.outboxPending, 11);
    },
  },
  {
    name: 'email verification: set at registration or by verifyEmail, kept by a change of case, cleared by another address, unverifyEmail and erasure — each audited with field names only',
    async run({ engine, store }) {
      const fresh = await register(engine, 'verify@example.com');
      assert.equal(fresh.emailVerifiedAt, null);
      let user = await engine.verifyEmail(admin, fresh.id, '2026-03-04T05:06:07.089+01:00');
      assert.equal(user.emailVerifiedAt, '2026-03-04T04:06:07.089Z', 'stored as ISO-8601 UTC with milliseconds');
      assert.deepEqual(await engine.getUser(user.id), user);
      user = await engine.changeEmail(admin, user.id, 'VERIFY@example.com');
      assert.equal(user.emailVerifiedAt, '2026-03-04T04:06:07.089Z', 'the same address in another case stays proved');
      user = await engine.changeEmail(admin, user.id, 'elsewhere@example.com');
      assert.equal(user.emailVerifiedAt, null, 'another address is not proved');
      user = await engine.verifyEmail(admin, user.id);
      assert.match(user.emailVerifiedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'now, by the clock');
      user = await engine.unverifyEmail(admin, user.id);
      assert.equal(user.emailVerifiedAt, null);
      await rejectsWith(engine.unverifyEmail(admin, user.id), 'invalid_state');
      const proved = await engine.registerUser(admin, {
        email: 'proved@example.com',
        emailVerifiedAt: '2025-12-31T23:59:59Z',
      });
      assert.equal(proved.emailVerifiedAt, '2025-12-31T23:59:59.000Z');
      // A leap day is on the calendar.
      const leap = await engine.registerUser(admin, {
        email: 'leap@example.com',
        emailVerifiedAt: '2024-02-29T23:30:00-01:00',
      });
      assert.equal(leap.emailVerifiedAt, '2024-03-01T00:30:00.000Z');
      // Besides forms that are no timestamp: times that are not on the calendar, which Date would roll over.
      for (const bad of [
        'yesterday',
        '2026-13-01T00:00:00Z',
        '2026-01-01',
        '2026-01-01T00:00:00',
        1_700_000_000_000,
        '2026-02-30T00:00:00Z',
        '2025-02-29T12:00:00+01:00',
        '2026-11-01T24:00Z',
        '2026-11-01T23:60:00Z',
        '2026-04-31T10:00:00.5-05:00',
      ]) {
        const error = await rejectsWith(
          engine.verifyEmail(admin, user.id, bad as string),
          'invalid_input',
          String(bad),
        );
        assert.equal((error as UserEngineError & { field: string }).field, 'verifiedAt');
        await rejectsWith(
          engine.registerUser(admin, { email: 'bad-time@example.com', emailVerifiedAt: bad as string }),
          'invalid_input',
        );
      }
      const erased = await engine.eraseUser(admin, proved.id);
      assert.equal(erased.emailVerifiedAt, null);
      await rejectsWith(engine.verifyEmail(admin, proved.id), 'invalid_state');
      const audit = await store.readAudit({ recordKey: `user:${fresh.id}` });
      assert.deepEqual(
        audit.map((e) => [e.action, e.detail.fields]),
        [
          ['user.registered', ['email']],
          ['user.email_verified', ['emailVerifiedAt']],
          ['user.email_changed', ['email']],
          ['user.email_changed', ['email', 'emailVerifiedAt']],
          ['user.email_verified', ['emailVerifiedAt']],
          ['user.email_unverified', ['emailVerifiedAt']],
        ],
      );
      const outbox = (await store.pendingOutbox({ limit: 1000 })).filter((m) => m.key === fresh.id);
      assert.deepEqual(
        outbox.map((m) => m.topic),
        audit.map((e) => e.action),
      );
      const proof = (await store.readAudit({ recordKey: `user:${proved.id}` })).map((e) => e.detail.fields);
      assert.deepEqual(proof[0], ['email', 'emailVerifiedAt']);
      assert.ok((proof[1] as string[]).includes('emailVerifiedAt'), 'erasure names the cleared field');
      const log = JSON.stringify([await store.readAudit({ limit: 1000 }), await store.pendingOutbox({ limit: 1000 })]);
      assert.ok(!log.includes('2026-03-04T04:06'), 'no verification time in audit or outbox');
      assert.deepEqual((await checkUserInvariants(store)).failures, []);
    },
  },
  {
    name: 'email is unique case-insensitively and after Unicode normalization; the record keeps what was given',
    async run({ engine }) {
      const u = await register(engine, '  Ada@Example.COM');
      assert.equal(u.email, 'Ada@Example.COM');
      assert.equal((await engine.findUserByEmail('ada@example.com'))?.id, u.id);
      assert.equal((await engine.findUserByEmail(' ADA@EXAMPLE.com '))?.id, u.id);
      await rejectsWith(register(engine, 'ada@example.com'), 'email_taken');
      await rejectsWith(register(engine, 'ADA@EXAMPLE.COM'), 'email_taken');
      await register(engine, 'jos\u00e9@example.com');
      await rejectsWith(register(engine, 'jose\u0301@example.com'), 'email_taken', 'decomposed é');
      await rejectsWith(register(engine, 'JOS\u00c9@example.com'), 'email_taken', 'upper-case É');
      assert.equal(await engine.findUserByEmail('nobody@example.com'), null);
    },
  },
  {
    name: 'concurrent registrations of one email: exactly one wins, the rest are email_taken, no orphan records',
    async run({ engine, store }) {
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => register(engine, i % 2 ? 'race@example.com' : 'RACE@example.com')),
      );
      const won = attempts.filter((a) => a.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const a of attempts) {
        if (a.status === 'rejected') assert.ok(UserEngineError.is(a.reason, 'email_taken'), String(a.reason));
      }
      assert.deepEqual(await store.recordCounts(), {
        records: { user: 1, 'user-email': 1 },
        audit: 1,
        outboxPending: 1,
      });
    },
  },
  {
    name: 'concurrent handle claims and identity links: exactly one wins each, with distinct error codes',
    async run({ engine, store }) {
      const handles = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => register(engine, `h${i}@example.com`, { handle: 'popular' })),
      );
      assert.equal(handles.filter((a) => a.status === 'fulfilled').length, 1);
      for (const a of handles) if (a.status === 'rejected') assert.ok(UserEngineError.is(a.reason, 'handle_taken'));
      const users = await Promise.all([1, 2, 3, 4].map((i) => register(engine, `i${i}@example.com`)));
      const links = await Promise.allSettled(
        users.map((u) => engine.linkIdentity(admin, u.id, { provider: 'github', subject: 'same' })),
      );
      assert.equal(links.filter((a) => a.status === 'fulfilled').length, 1);
      for (const a of links) if (a.status === 'rejected') assert.ok(UserEngineError.is(a.reason, 'identity_taken'));
      const counts = await store.recordCounts();
      assert.equal(counts.records['user-handle'], 1);
      assert.equal(counts.records['user-identity'], 1);
      assert.equal(counts.audit, 1 + 4 + 1);
    },
  },
  {
    name: 'concurrent role grants on one user all land (retry on conflict, no lost update)',
    async run({ engine, store }) {
      const u = await register(engine, 'busy@example.com');
      const roles = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      await Promise.all(roles.map((role) => engine.grantRole(admin, u.id, `role-${role}`)));
      const after = await engine.getUser(u.id);
      assert.deepEqual(
        after?.roles,
        roles.map((r) => `role-${r}`),
      );
      assert.equal(after?.version, 1 + roles.length);
      assert.equal((await store.recordCounts()).audit, 1 + roles.length);
    },
  },
  {
    name: "a caller's stale expectedVersion is a version_conflict that writes nothing; the current one works",
    async run({ engine, store }) {
      const u = await register(engine, 'occ@example.com');
      await engine.updateProfile(admin, u.id, { displayName: 'One' });
      const before = await dumpStore(store);
      const error = await rejectsWith(
        engine.updateProfile({ actor: 'editor', expectedVersion: 1 }, u.id, { displayName: 'Stale' }),
        'version_conflict',
      );
      assert.match(error.message, /version 2/);
      await rejectsWith(engine.grantRole({ actor: 'x', expectedVersion: 5 }, u.id, 'r'), 'version_conflict');
      assert.equal(await dumpStore(store), before);
      const ok = await engine.updateProfile({ actor: 'editor', expectedVersion: 2 }, u.id, { displayName: 'Fresh' });
      assert.equal(ok.version, 3);
    },
  },
  {
    name: 'email, handle and identity are released on change and unlink, and can be taken by another user',
    async run({ engine }) {
      const a = await register(engine, 'first@example.com', { handle: 'first' });
      await engine.linkIdentity(admin, a.id, { provider: 'gitlab', subject: 's1' });
      await engine.changeEmail(admin, a.id, 'moved@example.com');
      await engine.changeHandle(admin, a.id, 'moved');
      await engine.unlinkIdentity(admin, a.id, { provider: 'gitlab', subject: 's1' });
      assert.equal(await engine.findUserByEmail('first@example.com'), null);
      assert.equal(await engine.findUserByHandle('first'), null);
      assert.equal(await engine.findUserByIdentity('gitlab', 's1'), null);
      const b = await register(engine, 'FIRST@example.com', { handle: 'FIRST' });
      await engine.linkIdentity(admin, b.id, { provider: 'gitlab', subject: 's1' });
      assert.equal((await engine.findUserByEmail('first@example.com'))?.id, b.id);
      assert.equal((await engine.findUserByHandle('First'))?.id, b.id);
      assert.equal((await engine.findUserByIdentity('gitlab', 's1'))?.id, b.id);
      assert.equal((await engine.findUserByEmail('moved@example.com'))?.id, a.id);
      // Changing only the case of one's own email keeps the claim and the new spelling.
      const same = await engine.changeEmail(admin, b.id, 'First@Example.com');
      assert.equal(same.email, 'First@Example.com');
      await rejectsWith(engine.changeEmail(admin, a.id, 'first@EXAMPLE.com'), 'email_taken');
      await rejectsWith(engine.changeHandle(admin, a.id, 'first'), 'handle_taken');
      await rejectsWith(engine.linkIdentity(admin, a.id, { provider: 'gitlab', subject: 's1' }), 'identity_taken');
    },
  },
  {
    name: 'erasure releases email, handle and identities for reuse and leaves no personal data anywhere in the store',
    async run({ engine, store }) {
      const u = await engine.registerUser(admin, {
        email: personal.email,
        handle: personal.handle,
        displayName: personal.displayName,
        locale: personal.locale,
        attributes: personal.attributes,
      });
      await engine.linkIdentity(admin, u.id, { provider: 'github', subject: personal.subject });
      await engine.suspendUser(admin, u.id, { reason: personal.reason });
      await engine.updateProfile(admin, u.id, { attributes: { ...personal.attributes, more: 'Arlington Cemetery' } });
      const other = await register(engine, 'bystander@example.com');
      const beforeErase = await dumpStore(store);
      assert.ok(
        beforeErase.toLowerCase().includes(personal.email.toLowerCase()),
        'sanity: the dump sees personal data',
      );
      await engine.eraseUser({ actor: 'dpo' }, u.id);
      const dump = await dumpStore(store);
      for (const value of [
        personal.email,
        personal.email.toLowerCase(),
        personal.handle,
        personal.displayName,
        'USS Hopper',
        'New York City',
        'Arlington Cemetery',
        personal.subject,
        personal.reason,
      ]) {
        assert.ok(!dump.includes(value), `erased value ${JSON.stringify(value)} is still in the store`);
      }
      assert.ok(dump.includes(u.id), 'the tombstone and the audit trail keep the id');
      assert.equal((await engine.getUser(u.id))?.status, 'erased');
      assert.equal((await engine.getUser(other.id))?.email, 'bystander@example.com');
      const reuse = await engine.registerUser(admin, { email: personal.email, handle: personal.handle });
      await engine.linkIdentity(admin, reuse.id, { provider: 'github', subject: personal.subject });
      assert.equal((await engine.findUserByEmail(personal.email))?.id, reuse.id);
    },
  },
  {
    name: 'no error carries a personal value: every code the engine raises, scanned in message, fields, cause chain and stack',
    async run({ engine, store }) {
      const seen = new Set<string>();
      // Every error below is provoked with personal values in the input; none may carry one back.
      const scan = async (label: string, promise: Promise<unknown>, code: string) => {
        const error = await rejectsWith(promise, code, label);
        seen.add(error.code);
        const text = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`.toLowerCase();
        for (const value of PERSONAL_VALUES) {
          assert.ok(!text.includes(value.toLowerCase()), `${label}: the ${code} error carries a personal value`);
        }
      };
      const u = await engine.registerUser(admin, {
        email: personal.email,
        handle: personal.handle,
        displayName: personal.displayName,
        locale: personal.locale,
      });
      await engine.linkIdentity(admin, u.id, { provider: 'github', subject: personal.subject });
      const other = await register(engine, 'other@example.com');
      // invalid_input, from every kind of check
      await scan('bad email', engine.registerUser(admin, { email: `${personal.email}\u200d` }), 'invalid_input');
      await scan(
        'long name',
        engine.updateProfile(admin, u.id, { displayName: personal.displayName.repeat(20) }),
        'invalid_input',
      );
      await scan('bad locale', engine.updateProfile(admin, u.id, { locale: `${personal.reason}!` }), 'invalid_input');
      await scan('bad handle', engine.changeHandle(admin, u.id, `${personal.handle}!`), 'invalid_input');
      await scan(
        'bad attributes',
        engine.updateProfile(admin, u.id, { attributes: { [personal.email]: Number.NaN } as JsonObject }),
        'invalid_input',
      );
      await scan(
        'unknown key',
        engine.linkIdentity(admin, u.id, {
          provider: 'github',
          subject: personal.subject,
          [personal.email]: 1,
        } as never),
        'invalid_input',
      );
      // uniqueness, in other spellings of the same values
      await scan('email taken', engine.registerUser(admin, { email: personal.email.toUpperCase() }), 'email_taken');
      await scan('email taken on change', engine.changeEmail(admin, other.id, personal.email), 'email_taken');
      await scan('handle taken', engine.changeHandle(admin, other.id, personal.handle.toUpperCase()), 'handle_taken');
      await scan(
        'identity taken',
        engine.linkIdentity(admin, other.id, { provider: 'github', subject: personal.subject }),
        'identity_taken',
      );
      await scan(
        'not found',
        engine.unlinkIdentity(admin, other.id, { provider: 'github', subject: personal.subject }),
        'not_found',
      );
      await scan(
        'stale version',
        engine.changeEmail({ actor: 'admin:1', expectedVersion: 1 }, u.id, personal.email.toUpperCase()),
        'version_conflict',
      );
      await engine.suspendUser(admin, u.id, { reason: personal.reason });
      await scan('invalid state', engine.suspendUser(admin, u.id, { reason: personal.reason }), 'invalid_state');
      await store.close();
      await scan('closed store', engine.changeEmail(admin, u.id, personal.email), 'store_unavailable');
      assert.deepEqual([...seen].sort(), [
        'email_taken',
        'handle_taken',
        'identity_taken',
        'invalid_input',
        'invalid_state',
        'not_found',
        'store_unavailable',
        'version_conflict',
      ]);
    },
  },
  {
    name: 'a remembered user is only a guess: another engine changing it first loses nothing, and no stale state leaks out',
    async run({ engine, store }) {
      const other = new UserEngine({ store });
      const user = await engine.registerUser(admin, { email: 'guess@example.com', handle: 'guess_1' });
      // engine remembers the user at version 1; other moves it on.
      await other.updateProfile(admin, user.id, { displayName: 'Set elsewhere' });
      let after = await engine.grantRole(admin, user.id, 'editor');
      assert.equal(after.displayName, 'Set elsewhere', 'no lost update from a stale copy');
      assert.equal(after.version, 3);
      // A state rule judged on a stale copy is not the answer: other reactivates what engine saw suspended.
      await engine.suspendUser(admin, user.id, { reason: 'first' });
      await other.reactivateUser(admin, user.id);
      after = await engine.suspendUser(admin, user.id, { reason: 'again' });
      assert.equal(after.status, 'suspended');
      // A claim judged on a stale copy is not "taken": other moved the user to the address engine now asks for.
      await other.changeEmail(admin, user.id, 'moved@example.com');
      after = await engine.changeEmail(admin, user.id, 'MOVED@example.com');
      assert.equal(after.email, 'MOVED@example.com');
      // A caller's expectedVersion that matches the store, not the remembered copy, is honoured.
      const current = await other.getUser(user.id);
      await other.grantRole(admin, user.id, 'viewer');
      await rejectsWith(
        engine.revokeRole({ actor: 'admin:1', expectedVersion: current?.version ?? 0 }, user.id, 'editor'),
        'version_conflict',
      );
      // Erased elsewhere: the command meets the erasure, not the remembered active user.
      await other.eraseUser(admin, user.id);
      await rejectsWith(engine.grantRole(admin, user.id, 'late'), 'invalid_state');
      // What a caller does to a returned user does not reach the remembered copy.
      const second = await engine.registerUser(admin, { email: 'copy@example.com', attributes: { plan: 'free' } });
      (second.attributes as Record<string, unknown>).plan = 'tampered';
      second.roles.push('tampered');
      const updated = await engine.updateProfile(admin, second.id, { displayName: 'Copy' });
      assert.deepEqual(updated.attributes, { plan: 'free' });
      assert.deepEqual(updated.roles, []);
      assert.deepEqual(await engine.getUser(second.id), updated);
      const report = await checkUserInvariants(store);
      assert.deepEqual(report.failures, []);
    },
  },
  {
    name: 'state rules: suspended users accept all but suspend; active users cannot be reactivated; erased accept none',
    async run({ engine, store }) {
      const u = await register(engine, 'state@example.com');
      await rejectsWith(engine.reactivateUser(admin, u.id), 'invalid_state', 'reactivate active');
      await engine.suspendUser(admin, u.id, { reason: 'spam' });
      await rejectsWith(engine.suspendUser(admin, u.id, { reason: 'again' }), 'invalid_state', 'suspend suspended');
      await engine.updateProfile(admin, u.id, { displayName: 'Still editable' });
      await engine.grantRole(admin, u.id, 'r1');
      await engine.changeHandle(admin, u.id, 'suspended_one');
      assert.equal((await engine.getUser(u.id))?.status, 'suspended');
      await engine.eraseUser(admin, u.id);
      const before = await dumpStore(store);
      const id = u.id;
      const commands: [string, () => Promise<unknown>][] = [
        ['updateProfile', () => engine.updateProfile(admin, id, { displayName: 'x' })],
        ['changeEmail', () => engine.changeEmail(admin, id, 'new@example.com')],
        ['changeHandle', () => engine.changeHandle(admin, id, 'newhandle')],
        ['linkIdentity', () => engine.linkIdentity(admin, id, { provider: 'p', subject: 's' })],
        ['unlinkIdentity', () => engine.unlinkIdentity(admin, id, { provider: 'p', subject: 's' })],
        ['grantRole', () => engine.grantRole(admin, id, 'r2')],
        ['revokeRole', () => engine.revokeRole(admin, id, 'r1')],
        ['suspendUser', () => engine.suspendUser(admin, id, { reason: 'x' })],
        ['reactivateUser', () => engine.reactivateUser(admin, id)],
        ['eraseUser', () => engine.eraseUser(admin, id)],
      ];
      for (const [name, command] of commands) await rejectsWith(command(), 'invalid_state', `${name} on erased`);
      assert.equal(await dumpStore(store), before);
      assert.equal((await engine.getUser(id))?.status, 'erased');
    },
  },
  {
    name: 'unknown users: commands are not_found, queries are null',
    async run({ engine, store }) {
      const ghost = '01900000-0000-7000-8000-000000000000';
      await rejectsWith(engine.updateProfile(admin, ghost, { displayName: 'x' }), 'not_found');
      await rejectsWith(engine.grantRole(admin, ghost, 'r'), 'not_found');
      await rejectsWith(engine.eraseUser(admin, ghost), 'not_found');
      await rejectsWith(engine.changeEmail(admin, ghost, 'x@example.com'), 'not_found');
      assert.equal(await engine.getUser(ghost), null);
      assert.equal(await engine.findUserByHandle('nobody'), null);
      assert.equal(await engine.findUserByIdentity('github', 'nobody'), null);
      const u = await register(engine, 'nf@example.com');
      await rejectsWith(engine.unlinkIdentity(admin, u.id, { provider: 'github', subject: 'never' }), 'not_found');
      await rejectsWith(engine.revokeRole(admin, u.id, 'never'), 'invalid_state');
      await rejectsWith(
        engine.grantRole(admin, u.id, 'dup').then(() => engine.grantRole(admin, u.id, 'dup')),
        'invalid_state',
      );
      assert.deepEqual((await store.recordCounts()).records, { user: 1, 'user-email': 1 });
    },
  },
  {
    name: 'bad input is a ValidationError naming the field, raised before the store is touched',
    async run({ engine, store }) {
      const u = await register(engine, 'valid@example.com', { handle: 'valid' });
      const before = await dumpStore(store);
      const cases: [string, () => Promise<unknown>][] = [
        ['email', () => register(engine, 'no-at-sign')],
        ['email', () => register(engine, 'two@@example.com')],
        ['email', () => register(engine, 'a@b@example.com')],
        ['email', () => register(engine, 'nodomain@')],
        ['email', () => register(engine, 'nodot@localhost')],
        ['email', () => register(engine, `${'x'.repeat(250)}@example.com`)],
        ['email', () => register(engine, 'sp ace@example.com')],
        ['email', () => register(engine, 'nul\u0000@example.com')],
        ['email', () => engine.registerUser(admin, { email: 42 as unknown as string })],
        ['handle', () => register(engine, 'h@example.com', { handle: 'ab' })],
        ['handle', () => register(engine, 'h@example.com', { handle: 'x'.repeat(33) })],
        ['handle', () => register(engine, 'h@example.com', { handle: 'bad-dash' })],
        ['handle', () => register(engine, 'h@example.com', { handle: 'ünï' })],
        ['displayName', () => register(engine, 'h@example.com', { displayName: 'x'.repeat(201) })],
        ['displayName', () => register(engine, 'h@example.com', { displayName: 'line\nbreak' })],
        ['displayName', () => register(engine, 'h@example.com', { displayName: '' })],
        ['locale', () => register(engine, 'h@example.com', { locale: 'not a locale!' })],
        ['attributes', () => register(engine, 'h@example.com', { attributes: [] as unknown as JsonObject })],
        ['attributes', () => register(engine, 'h@example.com', { attributes: { big: 'x'.repeat(40_000) } })],
        [
          'attributes.when',
          () => register(engine, 'h@example.com', { attributes: { when: new Date() } as unknown as JsonObject }),
        ],
        ['input.emial', () => engine.registerUser(admin, { emial: 'x' } as unknown as { email: string })],
        ['actor', () => engine.registerUser({ actor: '' }, { email: 'h@example.com' })],
        ['expectedVersion', () => engine.grantRole({ actor: 'a', expectedVersion: 0 }, u.id, 'r')],
        ['role', () => engine.grantRole(admin, u.id, 'Not A Role')],
        ['identity.provider', () => engine.linkIdentity(admin, u.id, { provider: 'Git Hub', subject: 's' })],
        ['identity.subject', () => engine.linkIdentity(admin, u.id, { provider: 'github', subject: '' })],
        ['reason', () => engine.suspendUser(admin, u.id, { reason: '' })],
        ['patch', () => engine.updateProfile(admin, u.id, {})],
        ['id', () => engine.updateProfile(admin, '', { displayName: 'x' })],
        ['id', () => engine.getUser('bad\nid')],
      ];
      for (const [field, call] of cases) {
        const error = await rejectsWith(call(), 'invalid_input', `field ${field}:`);
        assert.equal((error as UserEngineError & { field: string }).field, field);
      }
      assert.equal(await dumpStore(store), before);
    },
  },
  {
    name: 'prototype-pollution keys in attributes are stored as plain data and pollute nothing',
    async run({ engine }) {
      const attributes = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
      const u = await engine.registerUser(admin, { email: 'proto@example.com', attributes });
      const read = await engine.getUser(u.id);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.getPrototypeOf(read?.attributes), Object.prototype);
      assert.ok(Object.hasOwn(read?.attributes ?? {}, '__proto__'), '__proto__ kept as an own key');
      assert.deepEqual(JSON.parse(JSON.stringify(read?.attributes)), attributes);
    },
  },
  {
    name: 'limits: at most 64 roles and 32 identities per user',
    async run({ engine }) {
      const u = await register(engine, 'limits@example.com');
      let user: User = u;
      for (let i = 0; i < 64; i++) user = await engine.grantRole(admin, u.id, `r${i}`);
      assert.equal(user.roles.length, 64);
      await rejectsWith(engine.grantRole(admin, u.id, 'one-more'), 'invalid_state');
      for (let i = 0; i < 32; i++) user = await engine.linkIdentity(admin, u.id, { provider: 'p', subject: `s${i}` });
      assert.equal(user.identities.length, 32);
      await rejectsWith(engine.linkIdentity(admin, u.id, { provider: 'p', subject: 'one-more' }), 'invalid_state');
    },
  },
  {
    name: 'listUsers pages by id with a next cursor, and find-by queries resolve through the indexes',
    async run({ engine }) {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++)
        ids.push((await register(engine, `list${i}@example.com`, { handle: `list_${i}` })).id);
      ids.sort();
      const seen: string[] = [];
      let next: string | null = null;
      do {
        const page: Awaited<ReturnType<UserEngine['listUsers']>> = await engine.listUsers(
          next === null ? { limit: 3 } : { after: next, limit: 3 },
        );
        seen.push(...page.users.map((u) => u.id));
        next = page.next;
      } while (next !== null);
      assert.deepEqual(seen, ids);
      const first = await engine.listUsers();
      assert.equal(first.users.length, 7);
      assert.equal(first.next, null);
      assert.equal((await engine.findUserByHandle('LIST_3'))?.email, 'list3@example.com');
      await rejectsWith(engine.listUsers({ limit: 0 }), 'invalid_input');
    },
  },
  {
    name: 'hostile but valid text in every free-text field is stored and read back exactly',
    async run({ engine }) {
      const names = [`Robert'); DROP TABLE users;--`, '\u202Egnp.exe', '👩‍💻 Zoë Ÿ', 'e\u0301\u0301', '"\\\'$1'];
      for (const [i, displayName] of names.entries()) {
        const attributes = { note: displayName, [displayName]: i, deep: { list: [displayName] } };
        const u = await engine.registerUser(admin, { email: `hostile${i}@example.com`, displayName, attributes });
        const read = await engine.getUser(u.id);
        assert.equal(read?.displayName, displayName);
        assert.deepEqual(read?.attributes, attributes);
        await engine.linkIdentity(admin, u.id, { provider: 'oidc', subject: displayName });
        assert.equal((await engine.findUserByIdentity('oidc', displayName))?.id, u.id);
      }
    },
  },
];

/**
 * Registers the engine scenario suite with a test runner: each scenario on a
 * fresh, migrated store from `factory`, behind a new `UserEngine`.
 */
export function runEngineScenarios(
  runner: TestRunner,
  storeName: string,
  factory: StoreFactory,
  options: SuiteOptions = {},
): void {
  registerSuite(
    runner,
    `engine scenarios [${storeName}]`,
    engineScenarios,
    async () => {
      const handle = await factory();
      await handle.store.migrate();
      return {
        context: { engine: new UserEngine({ store: handle.store }), store: handle.store },
        teardown: async () => handle.teardown?.(),
      };
    },
    options,
  );
}

import type { Adapter, AdapterAccount, AdapterSession, AdapterUser, VerificationToken } from '@auth/core/adapters';
import { type CommandContext, companionCommands, type UserEngine } from '../engine/engine.js';
import type { SessionTopic } from '../engine/events.js';
import { IDENTITY_INDEX_KIND, identityIndexId, USER_KIND, type User, userFromRecord } from '../engine/user.js';
import { InvalidStateError, NotFoundError, UserEngineError, ValidationError } from '../store/errors.js';
import type { JsonObject, JsonValue } from '../store/json.js';
import type { StoreRecord } from '../store/record.js';
import type { StoreTransaction, UserEngineStore } from '../store/store.js';
import {
  ACCOUNT_KIND,
  type AccountData,
  MAX_SESSIONS_PER_USER,
  SESSION_KIND,
  type SessionData,
  USER_SESSIONS_KIND,
  type UserSessionsData,
  VERIFICATION_KIND,
  type VerificationData,
} from './records.js';
import { sha256Hex, type TokenKey, TokenSealer } from './secrets.js';

/** What `UserEngineAdapter(engine, options)` takes; everything is optional. */
export interface UserEngineAdapterOptions {
  /** Recorded as the actor of every audit entry the adapter causes; `authjs` by default. */
  actor?: string;
  /**
   * A 32-byte key (bytes, or base64 text) that seals each account's OAuth
   * tokens with AES-256-GCM before they reach the store. Without one,
   * tokens are stored as JSON in the account record (still never in the
   * user record, the audit log or the outbox).
   *
   * @example UserEngineAdapter(engine, { tokenEncryptionKey: process.env.AUTH_TOKEN_KEY })
   */
  tokenEncryptionKey?: TokenKey | undefined;
  /** Keys that sealed tokens before the current one: still opened, never used to seal. For key rotation. */
  previousTokenEncryptionKeys?: readonly TokenKey[];
  /** The adapter's notion of now, for `pruneExpired`; `() => new Date()` by default. */
  clock?: () => Date;
}

/** What `pruneExpired` removed. Counts only. */
export interface AuthjsPruneReport {
  /** Sessions past their expiry, and sessions of users that are erased or gone. */
  sessions: number;
  /** Verification tokens past their expiry. */
  verificationTokens: number;
  /** Account records whose identity is no longer linked to their user (unlinked or erased through the engine directly). */
  accounts: number;
}

/**
 * The Auth.js adapter user-engine returns: every user, account, session and
 * verification-token method Auth.js defines, plus `pruneExpired`.
 */
export interface UserEngineAuthjsAdapter extends Adapter {
  /** Registers an engine user (`user.registered`): name → displayName, image and other fields → attributes. */
  createUser(user: AdapterUser): Promise<AdapterUser>;
  /** The user, or null when unknown or erased. */
  getUser(id: string): Promise<AdapterUser | null>;
  /** The user holding this address in any spelling, or null (also for text that is no address). */
  getUserByEmail(email: string): Promise<AdapterUser | null>;
  /** The user this provider account is linked to, or null. */
  getUserByAccount(account: Pick<AdapterAccount, 'provider' | 'providerAccountId'>): Promise<AdapterUser | null>;
  /** Applies the given fields as engine commands: email, then profile, then verification. */
  updateUser(user: Partial<AdapterUser> & Pick<AdapterUser, 'id'>): Promise<AdapterUser>;
  /** Erases the user: tombstone, accounts and sessions deleted, in one transaction. Returns the user as it was. */
  deleteUser(userId: string): Promise<AdapterUser | null>;
  /** Links the identity and stores its tokens in one transaction (`user.identity_linked`). */
  linkAccount(account: AdapterAccount): Promise<AdapterAccount>;
  /** Unlinks the identity and deletes its tokens in one transaction; undefined when it was not linked. */
  unlinkAccount(account: Pick<AdapterAccount, 'provider' | 'providerAccountId'>): Promise<AdapterAccount | undefined>;
  /** The linked account with its tokens opened, or null. */
  getAccount(providerAccountId: string, provider: string): Promise<AdapterAccount | null>;
  /** Stores a session under the SHA-256 of its token, audited as `user.signed_in`. */
  createSession(session: { sessionToken: string; userId: string; expires: Date }): Promise<AdapterSession>;
  /** The session and its user in one read; null when either is missing or the user is not active. */
  getSessionAndUser(sessionToken: string): Promise<{ session: AdapterSession; user: AdapterUser } | null>;
  /** Moves a session's expiry (not audited); null when the session is gone. */
  updateSession(
    session: Partial<AdapterSession> & Pick<AdapterSession, 'sessionToken'>,
  ): Promise<AdapterSession | null>;
  /** Deletes a session, audited as `user.signed_out`; returns it, or null when it was already gone. */
  deleteSession(sessionToken: string): Promise<AdapterSession | null>;
  /** Stores a verification token (its expiry only, under a hash of identifier and token). */
  createVerificationToken(token: VerificationToken): Promise<VerificationToken>;
  /** Returns the token and deletes it, exactly once even when requests race; null when unknown or used. */
  useVerificationToken(params: { identifier: string; token: string }): Promise<VerificationToken | null>;
  /**
   * Deletes expired sessions and verification tokens, sessions of erased
   * users, and token records of identities no longer linked. Run it on a
   * schedule (e.g. hourly); it pages through the records, `limit` per page.
   *
   * @example setInterval(() => adapter.pruneExpired().catch(report), 3_600_000)
   */
  pruneExpired(options?: { limit?: number }): Promise<AuthjsPruneReport>;
}

/** Auth.js user fields the engine keeps in their own columns; the rest go to attributes. */
const OWN_FIELDS = new Set(['id', 'name', 'email', 'emailVerified']);
const ACCOUNT_TYPES = new Set(['oauth', 'oidc', 'email', 'webauthn']);

/**
 * An Auth.js adapter (`@auth/core`, NextAuth, SvelteKit Auth, Express Auth)
 * backed by a `UserEngine`: users are engine users, accounts are linked
 * identities, and sessions and verification tokens are store records — so
 * sign-ups, links and erasures get the engine's atomic commands, audit log,
 * outbox and uniqueness. See docs/authjs.md.
 *
 * @example
 * import { Auth } from '@auth/core';
 * const adapter = UserEngineAdapter(engine, { tokenEncryptionKey: process.env.AUTH_TOKEN_KEY });
 * const response = await Auth(request, { adapter, providers, secret, session: { strategy: 'database' } });
 */
export function UserEngineAdapter(engine: UserEngine, options: UserEngineAdapterOptions = {}): UserEngineAuthjsAdapter {
  if (typeof engine?.registerUser !== 'function' || engine.store === undefined) {
    throw new ValidationError('engine', 'must be a UserEngine');
  }
  const store: UserEngineStore = engine.store;
  const actor = options.actor ?? 'authjs';
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > 256) {
    throw new ValidationError('actor', 'must be 1 to 256 characters');
  }
  const context: CommandContext = { actor };
  const sealer = new TokenSealer(options.tokenEncryptionKey, options.previousTokenEncryptionKeys ?? []);
  const clock = options.clock ?? (() => new Date());

  const adapter: UserEngineAuthjsAdapter = {
    async createUser(user) {
      const { name, email, emailVerified, extra } = splitUser(user);
      if (typeof email !== 'string')
        throw new ValidationError('user.email', 'is required: user-engine users have an email');
      const created = await engine.registerUser(context, {
        email,
        displayName: name,
        emailVerifiedAt: emailVerified === null ? null : isoOf(emailVerified, 'user.emailVerified'),
        attributes: extra,
      });
      return toAdapterUser(created);
    },

    async getUser(id) {
      return visible(await quietly(() => engine.getUser(id)));
    },

    async getUserByEmail(email) {
      return visible(await quietly(() => engine.findUserByEmail(email)));
    },

    async getUserByAccount({ provider, providerAccountId }) {
      return visible(await quietly(() => engine.findUserByIdentity(provider, providerAccountId)));
    },

    async updateUser(user) {
      const id = user.id;
      const { name, email, emailVerified, extra, given } = splitUser(user);
      let current = await engine.getUser(id);
      if (current === null || current.status === 'erased') throw new NotFoundError(`no user with id ${id}`);
      // A refused address (taken, invalid) fails first, before anything else changed.
      if (typeof email === 'string' && email !== current.email) current = await engine.changeEmail(context, id, email);
      const attributesChanged = Object.keys(extra).length > 0;
      if (given.has('name') || attributesChanged) {
        // Attributes are replaced whole: merge on the version read, and read again if someone else wrote.
        for (let attempt = 1; ; attempt++) {
          const patch: { displayName?: string | null; attributes?: JsonObject } = {};
          if (given.has('name')) patch.displayName = name;
          if (attributesChanged) patch.attributes = mergeAttributes(current.attributes, extra);
          try {
            current = await engine.updateProfile({ ...context, expectedVersion: current.version }, id, patch);
            break;
          } catch (error) {
            if (!UserEngineError.is(error, 'version_conflict') || attempt >= 5) throw error;
            const fresh = await engine.getUser(id);
            if (fresh === null || fresh.status === 'erased') throw new NotFoundError(`no user with id ${id}`);
            current = fresh;
          }
        }
      }
      if (given.has('emailVerified')) {
        if (emailVerified !== null) {
          current = await engine.verifyEmail(context, id, isoOf(emailVerified, 'user.emailVerified'));
        } else if (current.emailVerifiedAt !== null) {
          current = await engine.unverifyEmail(context, id);
        }
      }
      return toAdapterUser(current);
    },

    async deleteUser(userId) {
      const before = await quietly(() => engine.getUser(userId));
      if (before === null || before.status === 'erased') return null;
      let erasedFrom: User | undefined;
      try {
        await companionCommands.eraseUser(engine, context, userId, async (tx, user) => {
          erasedFrom = user;
          for (const identity of user.identities) await deleteIfPresent(tx, ACCOUNT_KIND, identityIndexId(identity));
          const list = await tx.get(USER_SESSIONS_KIND, userId);
          if (list !== null) {
            for (const hash of (list.data as unknown as UserSessionsData).sessions) {
              await deleteIfPresent(tx, SESSION_KIND, hash);
            }
            tx.delete(USER_SESSIONS_KIND, userId, list.version);
          }
        });
      } catch (error) {
        // Erased meanwhile by someone else: nothing left to delete.
        if (UserEngineError.is(error, 'invalid_state') || UserEngineError.is(error, 'not_found')) return null;
        throw error;
      }
      return toAdapterUser(erasedFrom ?? before);
    },

    async linkAccount(account) {
      const { userId, provider, providerAccountId, type, tokens } = splitAccount(account);
      const id = identityIndexId({ provider, subject: providerAccountId });
      await companionCommands.linkIdentity(
        engine,
        context,
        userId,
        { provider, subject: providerAccountId },
        async (tx) => {
          // A record left by an identity unlinked through the engine directly is replaced, not a conflict.
          const stale = await tx.get(ACCOUNT_KIND, id);
          const data: AccountData = { userId, type, tokens: sealer.seal(tokens, id) };
          tx.put({ kind: ACCOUNT_KIND, id, data: data as unknown as JsonObject, expectedVersion: stale?.version ?? 0 });
        },
      );
      return account;
    },

    async unlinkAccount({ provider, providerAccountId }) {
      const user = await quietly(() => engine.findUserByIdentity(provider, providerAccountId));
      if (user === null) return undefined;
      const id = identityIndexId({ provider, subject: providerAccountId });
      let removed: StoreRecord | null = null;
      try {
        await companionCommands.unlinkIdentity(
          engine,
          context,
          user.id,
          { provider, subject: providerAccountId },
          async (tx) => {
            removed = await deleteIfPresent(tx, ACCOUNT_KIND, id);
          },
        );
      } catch (error) {
        if (UserEngineError.is(error, 'not_found') || UserEngineError.is(error, 'invalid_state')) return undefined;
        throw error;
      }
      const record = removed as StoreRecord | null;
      return record === null
        ? { provider, providerAccountId, type: 'oauth', userId: user.id }
        : toAdapterAccount(record, provider, providerAccountId);
    },

    async getAccount(providerAccountId, provider) {
      const id = await quietly(async () => identityIndexId(validIdentity(provider, providerAccountId)));
      if (id === null) return null;
      const record = await store.getRecord(ACCOUNT_KIND, id);
      if (record === null) return null;
      const owner = await store.getRecord(IDENTITY_INDEX_KIND, id);
      if (owner?.data.userId !== (record.data as unknown as AccountData).userId) return null;
      return toAdapterAccount(record, provider, providerAccountId);
    },

    async createSession(session) {
      const sessionToken = requireText(session?.sessionToken, 'session.sessionToken');
      const userId = requireText(session.userId, 'session.userId');
      const expires = isoOf(session.expires, 'session.expires');
      const hash = sha256Hex(sessionToken);
      await retrying(store, async (tx) => {
        const user = await tx.get(USER_KIND, userId);
        if (user === null) throw new NotFoundError(`no user with id ${userId}`);
        const status = userFromRecord(user).status;
        if (status !== 'active') throw new InvalidStateError(`user ${userId} is ${status}; it cannot sign in`);
        const list = await tx.get(USER_SESSIONS_KIND, userId);
        const sessions = list === null ? [] : [...(list.data as unknown as UserSessionsData).sessions];
        while (sessions.length >= MAX_SESSIONS_PER_USER) {
          await deleteIfPresent(tx, SESSION_KIND, sessions.shift() as string);
        }
        sessions.push(hash);
        const data: SessionData = { userId, expires };
        tx.put({ kind: SESSION_KIND, id: hash, data: data as unknown as JsonObject, expectedVersion: 0 });
        tx.put({
          kind: USER_SESSIONS_KIND,
          id: userId,
          data: { sessions } satisfies UserSessionsData,
          expectedVersion: list?.version ?? 0,
        });
        sessionEvent(tx, actor, 'user.signed_in', userId, hash);
      });
      return { sessionToken, userId, expires: new Date(expires) };
    },

    async getSessionAndUser(sessionToken) {
      if (typeof sessionToken !== 'string' || sessionToken.length === 0) return null;
      const hash = sha256Hex(sessionToken);
      const index = { kind: SESSION_KIND, id: hash };
      const target = { kind: USER_KIND, field: 'userId' };
      let pair: { index: StoreRecord; target: StoreRecord } | null;
      if (store.getIndexedPair !== undefined) {
        pair = await store.getIndexedPair(index, target);
      } else {
        const session = await store.getRecord(SESSION_KIND, hash);
        const userId = session?.data.userId;
        const user = typeof userId === 'string' ? await store.getRecord(USER_KIND, userId) : null;
        pair = session === null || user === null ? null : { index: session, target: user };
      }
      if (pair === null) return null;
      const user = userFromRecord(pair.target);
      if (user.status !== 'active') return null;
      const data = pair.index.data as unknown as SessionData;
      return {
        session: { sessionToken, userId: data.userId, expires: new Date(data.expires) },
        user: toAdapterUser(user),
      };
    },

    async updateSession(session) {
      const sessionToken = requireText(session?.sessionToken, 'session.sessionToken');
      const expires = session.expires === undefined ? undefined : isoOf(session.expires, 'session.expires');
      const hash = sha256Hex(sessionToken);
      return retrying(store, async (tx) => {
        const record = await tx.get(SESSION_KIND, hash);
        if (record === null) return null;
        const data = record.data as unknown as SessionData;
        if (session.userId !== undefined && session.userId !== data.userId) {
          throw new ValidationError('session.userId', 'a session cannot move to another user');
        }
        const next: SessionData = { userId: data.userId, expires: expires ?? data.expires };
        if (next.expires !== data.expires) {
          tx.put({
            kind: SESSION_KIND,
            id: hash,
            data: next as unknown as JsonObject,
            expectedVersion: record.version,
          });
        }
        return { sessionToken, userId: next.userId, expires: new Date(next.expires) };
      });
    },

    async deleteSession(sessionToken) {
      if (typeof sessionToken !== 'string' || sessionToken.length === 0) return null;
      const hash = sha256Hex(sessionToken);
      return retrying(store, async (tx) => {
        const record = await tx.get(SESSION_KIND, hash);
        if (record === null) return null;
        const data = record.data as unknown as SessionData;
        // Read (so the commit re-checks, and on Postgres holds) the user's record, as a sign-in does:
        // the event then takes its seq in the user's commit order, behind any command on the user.
        await tx.get(USER_KIND, data.userId);
        tx.delete(SESSION_KIND, hash, record.version);
        await forgetSession(tx, data.userId, hash);
        sessionEvent(tx, actor, 'user.signed_out', data.userId, hash);
        return { sessionToken, userId: data.userId, expires: new Date(data.expires) };
      });
    },

    async createVerificationToken(token) {
      const identifier = requireText(token?.identifier, 'verificationToken.identifier');
      const secret = requireText(token.token, 'verificationToken.token');
      const expires = isoOf(token.expires, 'verificationToken.expires');
      const data: VerificationData = { expires };
      await store.transaction(async (tx) => {
        tx.put({
          kind: VERIFICATION_KIND,
          id: verificationId(identifier, secret),
          data: data as unknown as JsonObject,
          expectedVersion: 0,
        });
      });
      return { identifier, token: secret, expires: new Date(expires) };
    },

    async useVerificationToken({ identifier, token }) {
      if (typeof identifier !== 'string' || typeof token !== 'string') return null;
      const id = verificationId(identifier, token);
      try {
        return await store.transaction(async (tx) => {
          const record = await tx.get(VERIFICATION_KIND, id);
          if (record === null) return null;
          // Deleted at the version read: of two requests racing for one token, exactly one commits.
          tx.delete(VERIFICATION_KIND, id, record.version);
          return { identifier, token, expires: new Date((record.data as unknown as VerificationData).expires) };
        });
      } catch (error) {
        if (UserEngineError.is(error, 'version_conflict')) return null;
        throw error;
      }
    },

    async pruneExpired(pruneOptions = {}) {
      const limit = pruneOptions.limit ?? 500;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new ValidationError('limit', 'must be an integer from 1 to 1000');
      }
      const now = clock().toISOString();
      const report: AuthjsPruneReport = { sessions: 0, verificationTokens: 0, accounts: 0 };
      await eachRecord(store, SESSION_KIND, limit, async (record) => {
        const data = record.data as unknown as SessionData;
        const owner = await store.getRecord(USER_KIND, data.userId);
        const ownerGone = owner === null || userFromRecord(owner).status === 'erased';
        if (data.expires > now && !ownerGone) return;
        const removed = await retrying(store, async (tx) => {
          const current = await tx.get(SESSION_KIND, record.id);
          if (current === null) return false;
          const stillExpired = (current.data as unknown as SessionData).expires <= now;
          if (!stillExpired && !ownerGone) return false;
          tx.delete(SESSION_KIND, record.id, current.version);
          await forgetSession(tx, data.userId, record.id);
          return true;
        });
        if (removed) report.sessions += 1;
      });
      await eachRecord(store, VERIFICATION_KIND, limit, async (record) => {
        if ((record.data as unknown as VerificationData).expires > now) return;
        try {
          await store.transaction(async (tx) => tx.delete(VERIFICATION_KIND, record.id, record.version));
          report.verificationTokens += 1;
        } catch (error) {
          // Used meanwhile: someone else deleted it.
          if (!UserEngineError.is(error, 'version_conflict')) throw error;
        }
      });
      await eachRecord(store, ACCOUNT_KIND, limit, async (record) => {
        const owner = await store.getRecord(IDENTITY_INDEX_KIND, record.id);
        if (owner?.data.userId === (record.data as unknown as AccountData).userId) return;
        try {
          await store.transaction(async (tx) => {
            const index = await tx.get(IDENTITY_INDEX_KIND, record.id);
            if (index?.data.userId === (record.data as unknown as AccountData).userId) return;
            tx.delete(ACCOUNT_KIND, record.id, record.version);
          });
          report.accounts += 1;
        } catch (error) {
          if (!UserEngineError.is(error, 'version_conflict')) throw error;
        }
      });
      return report;
    },
  };

  function toAdapterAccount(record: StoreRecord, provider: string, providerAccountId: string): AdapterAccount {
    const data = record.data as unknown as AccountData;
    const tokens = sealer.open(data.tokens, record.id);
    return {
      ...(tokens as Record<string, unknown>),
      provider,
      providerAccountId,
      type: data.type as AdapterAccount['type'],
      userId: data.userId,
    };
  }

  return adapter;
}

/** The user as Auth.js sees it: attributes spread beside id, name, email, emailVerified and image. */
export function toAdapterUser(user: User): AdapterUser {
  const extra: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(user.attributes)) {
    if (!OWN_FIELDS.has(key) && value !== undefined) extra[key] = value;
  }
  const image = user.attributes.image;
  return {
    ...extra,
    id: user.id,
    name: user.displayName,
    email: user.email ?? '',
    emailVerified: user.emailVerifiedAt === null ? null : new Date(user.emailVerifiedAt),
    image: typeof image === 'string' ? image : null,
  };
}

/** A user Auth.js may see: erased users are gone to it. */
function visible(user: User | null): AdapterUser | null {
  return user === null || user.status === 'erased' ? null : toAdapterUser(user);
}

/** A lookup whose input is no valid key (an id, address or identity the engine refuses) finds nothing. */
async function quietly<T>(lookup: () => Promise<T>): Promise<T | null> {
  try {
    return await lookup();
  } catch (error) {
    if (UserEngineError.is(error, 'invalid_input')) return null;
    throw error;
  }
}

function splitUser(user: Partial<AdapterUser>): {
  name: string | null;
  email: string | null | undefined;
  emailVerified: Date | null;
  extra: JsonObject;
  given: Set<string>;
} {
  if (typeof user !== 'object' || user === null) throw new ValidationError('user', 'must be an object');
  const given = new Set(Object.keys(user).filter((k) => (user as Record<string, unknown>)[k] !== undefined));
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(user)) {
    if (OWN_FIELDS.has(key) || value === undefined) continue;
    extra[key] = value instanceof Date ? value.toISOString() : (value as JsonValue);
  }
  const name = user.name === undefined || user.name === null || user.name === '' ? null : user.name;
  const verified = user.emailVerified;
  if (verified !== undefined && verified !== null && !(verified instanceof Date)) {
    throw new ValidationError('user.emailVerified', 'must be a Date or null');
  }
  return { name, email: user.email, emailVerified: verified ?? null, extra, given };
}

function mergeAttributes(current: JsonObject, changes: JsonObject): JsonObject {
  const merged: JsonObject = { ...current };
  for (const [key, value] of Object.entries(changes)) merged[key] = value;
  return merged;
}

function splitAccount(account: AdapterAccount): {
  userId: string;
  provider: string;
  providerAccountId: string;
  type: string;
  tokens: JsonObject;
} {
  if (typeof account !== 'object' || account === null) throw new ValidationError('account', 'must be an object');
  const { userId, provider, providerAccountId, type, ...rest } = account;
  requireText(userId, 'account.userId');
  validIdentity(provider, providerAccountId);
  if (typeof type !== 'string' || !ACCOUNT_TYPES.has(type)) {
    throw new ValidationError('account.type', 'must be one of oauth, oidc, email, webauthn');
  }
  const tokens: JsonObject = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) tokens[key] = value as JsonValue;
  return { userId, provider, providerAccountId, type, tokens };
}

/** Provider and account id as the engine's identity rules take them (the error names the Auth.js field). */
function validIdentity(provider: unknown, providerAccountId: unknown): { provider: string; subject: string } {
  if (typeof provider !== 'string' || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(provider)) {
    throw new ValidationError('account.provider', 'must match /^[a-z0-9][a-z0-9_.-]{0,63}$/');
  }
  const subject = requireText(providerAccountId, 'account.providerAccountId');
  return { provider, subject };
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  return value;
}

function isoOf(value: unknown, field: string): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new ValidationError(field, 'must be a valid Date');
  return value.toISOString();
}

function verificationId(identifier: string, token: string): string {
  return sha256Hex(`${identifier}\n${token}`);
}

/** Deletes a record at the version this transaction reads, if it exists; returns what it deleted. */
async function deleteIfPresent(tx: StoreTransaction, kind: string, id: string): Promise<StoreRecord | null> {
  const record = await tx.get(kind, id);
  if (record !== null) tx.delete(kind, id, record.version);
  return record;
}

/** Takes a session off its user's list (deleting the list when it empties). */
async function forgetSession(tx: StoreTransaction, userId: string, hash: string): Promise<void> {
  const list = await tx.get(USER_SESSIONS_KIND, userId);
  if (list === null) return;
  const sessions = (list.data as unknown as UserSessionsData).sessions.filter((h) => h !== hash);
  if (sessions.length === 0) tx.delete(USER_SESSIONS_KIND, userId, list.version);
  else tx.put({ kind: USER_SESSIONS_KIND, id: userId, data: { sessions }, expectedVersion: list.version });
}

/** A sign-in or sign-out: one audit entry and one event naming the user and the session's hash, nothing else. */
function sessionEvent(tx: StoreTransaction, actor: string, action: SessionTopic, userId: string, hash: string): void {
  tx.appendAudit({ actor, action, recordKey: `${SESSION_KIND}:${hash}`, detail: { session: hash, userId } });
  tx.enqueueOutbox({ topic: action, key: userId, payload: { session: hash, userId } });
}

/** A store transaction of the adapter's own, run again (a bounded number of times) when a concurrent writer got there first. */
async function retrying<T>(store: UserEngineStore, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction(work);
    } catch (error) {
      const aborted = (error as { transactionAborted?: unknown }).transactionAborted === true;
      if (!UserEngineError.is(error, 'version_conflict') || aborted || attempt >= 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }
}

/** Calls `visit` for every record of a kind, paging by id. */
async function eachRecord(
  store: UserEngineStore,
  kind: string,
  limit: number,
  visit: (record: StoreRecord) => Promise<void>,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listRecords(kind, after === undefined ? { limit } : { after, limit });
    for (const record of page) await visit(record);
    if (page.length < limit) return;
    after = page[page.length - 1]?.id;
  }
}

import {
  conflictKeyOf,
  InvalidStateError,
  NotFoundError,
  UniquenessError,
  UserEngineError,
  ValidationError,
  VersionConflictError,
} from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import { normalizeRecordPage } from '../store/queries.js';
import { isValidId, type StoreRecord } from '../store/record.js';
import type { StoreTransaction, UserEngineStore } from '../store/store.js';
import type { UserChangeTopic, UserField } from './events.js';
import { uuidv7 } from './ids.js';
import {
  EMAIL_INDEX_KIND,
  HANDLE_INDEX_KIND,
  IDENTITY_INDEX_KIND,
  type IndexData,
  identityIndexId,
  type LinkedIdentity,
  toUser,
  USER_KIND,
  type User,
  type UserData,
  userFromRecord,
} from './user.js';
import {
  emailIndexKey,
  LIMITS,
  normalizeActor,
  normalizeAttributes,
  normalizeDisplayName,
  normalizeEmail,
  normalizeExpectedVersion,
  normalizeHandle,
  normalizeIdentity,
  normalizeLocale,
  normalizeReason,
  normalizeRole,
  normalizeTimestamp,
  normalizeUserId,
  readInput,
} from './validation.js';

/** Who is acting, and optionally the user version they last saw. */
export interface CommandContext {
  /** Recorded in the audit log: a user id, a service name, `cli`. */
  actor: string;
  /** The user's version the caller last read; a stale one gives `version_conflict` instead of a retry. */
  expectedVersion?: number;
}

/** What `registerUser` takes: an email, and optionally a handle, a display name, a locale and attributes. */
export interface RegisterUserInput {
  email: string;
  /** When the address was proved (ISO-8601 with a time zone), if it already was; null or left out: not verified. */
  emailVerifiedAt?: string | null;
  handle?: string | null;
  displayName?: string | null;
  locale?: string | null;
  attributes?: JsonObject;
}

/** What `updateProfile` changes; a field given as null is cleared, a field left out is kept. */
export interface ProfilePatch {
  displayName?: string | null;
  locale?: string | null;
  /** Replaces the whole attributes object. */
  attributes?: JsonObject;
}

/** How often and how patiently a command retries a conflict with a concurrent writer. Default: 10 attempts, 2–100 ms jittered backoff. */
export interface RetryPolicy {
  /** Total attempts of a command that keeps meeting concurrent writers; at least 5. */
  attempts: number;
  /** Backoff before attempt n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What `new UserEngine(options)` takes: the store, and optional clock, id source, retry policy and retry hook. */
export interface UserEngineOptions {
  store: UserEngineStore;
  /** Source of user timestamps; `() => new Date()` by default. */
  clock?: () => Date;
  /** Source of new user ids; UUIDv7 by default. */
  newId?: () => string;
  retry?: Partial<RetryPolicy>;
  /**
   * Called each time a command meets a concurrent writer and is about to be
   * retried — for metrics. It names the kind of record that conflicted and
   * the user the command is about (null while registering), never a value.
   *
   * @example new UserEngine({ store, onRetry: () => metrics.increment('user_engine.retries') })
   */
  onRetry?: (info: RetryInfo) => void;
  /**
   * How many users the engine remembers as it last read or wrote them
   * (default 1000; 0 turns it off). A command on a remembered user sends its
   * write at the remembered version straight away — one statement instead of
   * a read and a write. The remembered copy is only a guess: the store checks
   * the version at commit, and a command whose guess was stale, or that fails
   * on it in any way, runs again on a fresh read. So it is exact across
   * processes; what it saves is a round trip.
   */
  recentUsers?: number;
}

/** What `onRetry` is told about a retried command. */
export interface RetryInfo {
  /** The attempt that met the conflict (1 = the first). */
  attempt: number;
  /** The kind of the record that conflicted, e.g. `user`. */
  kind: string | null;
  /** The user the command is about; null for a registration. */
  userId: string | null;
}

/** One page of `listUsers`. */
export interface UserPage {
  users: User[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 2, maxDelayMs: 100 };

/**
 * Users as the engine last read or wrote them, most recent last, at most
 * `capacity`: what a command may start from without reading. Data is kept as
 * JSON text, so nothing a caller does to a returned `User` can reach it.
 */
class RecentUsers {
  readonly #capacity: number;
  readonly #entries = new Map<string, { version: number; data: string }>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  remember(id: string, version: number, data: UserData): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(id);
    this.#entries.set(id, { version, data: JSON.stringify(data) });
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  /** A fresh copy of the remembered user, if any. */
  recall(id: string): { version: number; data: UserData } | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return { version: entry.version, data: JSON.parse(entry.data) as UserData };
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }
}

/**
 * Package-internal (not exported from any entry): a module of this package
 * that keeps records of its own about a user — the Auth.js adapter's
 * accounts and sessions — adds their writes to an engine command's own
 * transaction, so they commit or fail with the user change, on the same
 * version checks and retries. It runs on every attempt, after the user is
 * read and before the command changes it, and sees the user as read.
 */
export type Companion = (tx: StoreTransaction, user: User) => Promise<void>;

/** Engine commands that take a companion; see `Companion`. Set by `UserEngine`'s static block. */
export let companionCommands: {
  linkIdentity(
    engine: UserEngine,
    context: CommandContext,
    id: string,
    identity: LinkedIdentity,
    companion: Companion,
  ): Promise<User>;
  unlinkIdentity(
    engine: UserEngine,
    context: CommandContext,
    id: string,
    identity: LinkedIdentity,
    companion: Companion,
  ): Promise<User>;
  eraseUser(engine: UserEngine, context: CommandContext, id: string, companion: Companion): Promise<User>;
};

/**
 * The user accounts core. Every command is one store transaction that writes
 * the user, its uniqueness index records, one audit entry and one outbox
 * event; bad input is a `ValidationError` before the store is touched.
 *
 * @example
 * const engine = new UserEngine({ store });
 * const user = await engine.registerUser({ actor: 'signup' }, { email: 'ada@example.com', handle: 'ada' });
 * await engine.grantRole({ actor: 'admin:1' }, user.id, 'editor');
 */
export class UserEngine {
  readonly #store: UserEngineStore;
  readonly #clock: () => Date;
  readonly #newId: () => string;
  readonly #retry: RetryPolicy;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #recent: RecentUsers;

  static {
    companionCommands = {
      linkIdentity: (engine, context, id, identity, companion) =>
        engine.#linkIdentity(context, id, identity, companion),
      unlinkIdentity: (engine, context, id, identity, companion) =>
        engine.#unlinkIdentity(context, id, identity, companion),
      eraseUser: (engine, context, id, companion) => engine.#eraseUser(context, id, companion),
    };
  }

  constructor(options: UserEngineOptions) {
    if (options?.store === undefined) throw new ValidationError('store', 'is required');
    this.#store = options.store;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? (() => uuidv7());
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!Number.isInteger(retry.attempts) || retry.attempts < 5 || retry.attempts > 100) {
      throw new ValidationError('retry.attempts', 'must be an integer from 5 to 100');
    }
    this.#retry = retry;
    this.#onRetry = options.onRetry;
    const recent = options.recentUsers ?? 1000;
    if (!Number.isSafeInteger(recent) || recent < 0) {
      throw new ValidationError('recentUsers', 'must be a whole number, 0 or more');
    }
    this.#recent = new RecentUsers(recent);
  }

  /** The store the engine runs on. */
  get store(): UserEngineStore {
    return this.#store;
  }

  // ----- commands

  /**
   * Registers a new active user with a fresh UUIDv7 id, claiming its email
   * (and handle) atomically: one transaction writes the user, its index
   * records, one audit entry and one `user.registered` event.
   *
   * @throws `invalid_input` (bad or unknown field; `expectedVersion` given),
   * `email_taken`, `handle_taken`, `version_conflict` (retries exhausted),
   * `schema_not_ready`, `store_unavailable`.
   * @example await engine.registerUser({ actor: 'signup' }, { email: 'ada@example.com', handle: 'ada' })
   */
  async registerUser(context: CommandContext, input: RegisterUserInput): Promise<User> {
    const ctx = this.#context(context);
    if (ctx.expectedVersion !== undefined) {
      throw new ValidationError('expectedVersion', 'cannot be given when registering a new user');
    }
    const raw = readInput(input, 'input', [
      'email',
      'emailVerifiedAt',
      'handle',
      'displayName',
      'locale',
      'attributes',
    ]);
    const email = normalizeEmail(raw.email);
    const emailVerifiedAt =
      raw.emailVerifiedAt === undefined || raw.emailVerifiedAt === null
        ? null
        : normalizeTimestamp(raw.emailVerifiedAt, 'emailVerifiedAt');
    const handle = raw.handle === undefined || raw.handle === null ? null : normalizeHandle(raw.handle);
    const displayName =
      raw.displayName === undefined || raw.displayName === null ? null : normalizeDisplayName(raw.displayName);
    const locale = raw.locale === undefined || raw.locale === null ? null : normalizeLocale(raw.locale);
    const attributes = raw.attributes === undefined ? {} : normalizeAttributes(raw.attributes);
    const fields: UserField[] = ['email'];
    if (emailVerifiedAt !== null) fields.push('emailVerifiedAt');
    if (handle !== null) fields.push('handle');
    if (displayName !== null) fields.push('displayName');
    if (locale !== null) fields.push('locale');
    if (raw.attributes !== undefined) fields.push('attributes');
    // Blind creates: uniqueness is decided by the commit itself (an index record that already
    // exists is a conflict on its key), so registering costs one round trip and cannot race.
    return this.#run(null, async (tx, claim) => {
      const id = this.#newUserId();
      claim(tx, 'email', email.indexKey, id);
      if (handle !== null) claim(tx, 'handle', handle, id);
      const now = this.#now();
      // Keys in sorted order, so canonical serialization can take its fast path.
      const data: UserData = {
        attributes,
        createdAt: now,
        displayName,
        email: email.email,
        emailVerifiedAt,
        handle,
        identities: [],
        locale,
        roles: [],
        status: 'active',
        suspendedReason: null,
        updatedAt: now,
      };
      tx.put({ kind: USER_KIND, id, data: asJson(data), expectedVersion: 0 });
      appendChange(tx, ctx, id, 1, data.status, 'user.registered', fields);
      return { id, version: 1, data };
    });
  }

  /**
   * Changes display name, locale and/or attributes (attributes are replaced
   * whole). A field given as null is cleared.
   *
   * @throws `invalid_input` (no field, bad or unknown field), `not_found`,
   * `invalid_state` (erased), `version_conflict` (stale `expectedVersion`, or
   * retries exhausted), `schema_not_ready`, `store_unavailable`.
   */
  async updateProfile(context: CommandContext, id: string, patch: ProfilePatch): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const raw = readInput(patch, 'patch', ['displayName', 'locale', 'attributes']);
    const changes: Partial<Pick<UserData, 'displayName' | 'locale' | 'attributes'>> = {};
    if (raw.displayName !== undefined) {
      changes.displayName = raw.displayName === null ? null : normalizeDisplayName(raw.displayName);
    }
    if (raw.locale !== undefined) changes.locale = raw.locale === null ? null : normalizeLocale(raw.locale);
    if (raw.attributes !== undefined) changes.attributes = normalizeAttributes(raw.attributes);
    const fields = Object.keys(changes) as UserField[];
    if (fields.length === 0)
      throw new ValidationError('patch', 'names no field to update (displayName, locale, attributes)');
    return this.#mutate(ctx, userId, 'user.profile_updated', undefined, (_tx, user) => {
      Object.assign(user, changes);
      return fields;
    });
  }

  /**
   * Moves the user to a new email address, claiming it and releasing the old
   * one in the same transaction. The same address in another spelling (case,
   * width, normalization) is the same address: nothing is claimed, and a
   * verification stands; another address clears `emailVerifiedAt` (it was the
   * old address that was proved).
   *
   * @throws `invalid_input`, `not_found`, `email_taken`, `invalid_state`,
   * `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async changeEmail(context: CommandContext, id: string, email: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const next = normalizeEmail(email);
    return this.#mutate(ctx, userId, 'user.email_changed', undefined, (tx, user, claim) => {
      const current = user.email === null ? null : emailIndexKey(user.email);
      const fields: UserField[] = ['email'];
      if (current !== next.indexKey) {
        claim(tx, 'email', next.indexKey, userId);
        if (current !== null) release(tx, 'email', current);
        if (user.emailVerifiedAt !== null) fields.push('emailVerifiedAt');
        user.emailVerifiedAt = null;
      }
      user.email = next.email;
      return fields;
    });
  }

  /**
   * Records that the user proved they receive mail at their current address
   * (a confirmation link, an email sign-in), at `verifiedAt` (ISO-8601 with a
   * time zone) or now by the engine's clock. Verifying again moves the time.
   *
   * @throws `invalid_input` (bad timestamp), `not_found`, `invalid_state`
   * (erased), `version_conflict`, `schema_not_ready`, `store_unavailable`.
   * @example await engine.verifyEmail({ actor: 'mailer' }, user.id)
   */
  async verifyEmail(context: CommandContext, id: string, verifiedAt?: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const at = verifiedAt === undefined ? undefined : normalizeTimestamp(verifiedAt, 'verifiedAt');
    return this.#mutate(ctx, userId, 'user.email_verified', undefined, (_tx, user) => {
      user.emailVerifiedAt = at ?? this.#now();
      return ['emailVerifiedAt'];
    });
  }

  /**
   * Withdraws the verification of the user's address (`emailVerifiedAt`
   * becomes null), e.g. when mail to it bounces.
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (erased; not
   * verified), `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async unverifyEmail(context: CommandContext, id: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    return this.#mutate(ctx, userId, 'user.email_unverified', undefined, (_tx, user) => {
      if (user.emailVerifiedAt === null) throw new InvalidStateError(`user ${userId} has no verified email`);
      user.emailVerifiedAt = null;
      return ['emailVerifiedAt'];
    });
  }

  /**
   * Sets (claiming it) or clears (null) the user's handle.
   *
   * @throws `invalid_input`, `not_found`, `handle_taken`, `invalid_state`,
   * `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async changeHandle(context: CommandContext, id: string, handle: string | null): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const next = handle === null ? null : normalizeHandle(handle);
    return this.#mutate(ctx, userId, 'user.handle_changed', undefined, (tx, user, claim) => {
      if (user.handle !== next) {
        if (next !== null) claim(tx, 'handle', next, userId);
        if (user.handle !== null) release(tx, 'handle', user.handle);
      }
      user.handle = next;
      return ['handle'];
    });
  }

  /**
   * Links an external identity (provider + subject); each identity belongs to
   * at most one user, and a user has at most 32.
   *
   * @throws `invalid_input` (bad or unknown field), `not_found`,
   * `identity_taken`, `invalid_state` (erased; at the limit), `version_conflict`,
   * `schema_not_ready`, `store_unavailable`.
   */
  async linkIdentity(context: CommandContext, id: string, identity: LinkedIdentity): Promise<User> {
    return this.#linkIdentity(context, id, identity, undefined);
  }

  async #linkIdentity(
    context: CommandContext,
    id: string,
    identity: LinkedIdentity,
    companion: Companion | undefined,
  ): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const link = normalizeIdentity(identity);
    return this.#mutate(ctx, userId, 'user.identity_linked', companion, (tx, user, claim) => {
      if (user.identities.length >= LIMITS.identities) {
        throw new InvalidStateError(`user ${userId} already has the maximum of ${LIMITS.identities} identities`);
      }
      claim(tx, 'identity', identityIndexId(link), userId);
      user.identities.push(link);
      return ['identities'];
    });
  }

  /**
   * Unlinks one of the user's identities and releases it.
   *
   * @throws `invalid_input`, `not_found` (no such user, or no such identity
   * on it), `invalid_state`, `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async unlinkIdentity(context: CommandContext, id: string, identity: LinkedIdentity): Promise<User> {
    return this.#unlinkIdentity(context, id, identity, undefined);
  }

  async #unlinkIdentity(
    context: CommandContext,
    id: string,
    identity: LinkedIdentity,
    companion: Companion | undefined,
  ): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const link = normalizeIdentity(identity);
    return this.#mutate(ctx, userId, 'user.identity_unlinked', companion, (tx, user) => {
      const at = user.identities.findIndex((i) => i.provider === link.provider && i.subject === link.subject);
      if (at < 0) throw new NotFoundError(`user ${userId} has no such ${link.provider} identity linked`);
      release(tx, 'identity', identityIndexId(link));
      user.identities.splice(at, 1);
      return ['identities'];
    });
  }

  /**
   * Grants a role (`/^[a-z][a-z0-9_.:-]{0,63}$/`); a user has at most 64.
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (already held; at the
   * limit; erased), `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async grantRole(context: CommandContext, id: string, role: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const granted = normalizeRole(role);
    return this.#mutate(ctx, userId, 'user.role_granted', undefined, (_tx, user) => {
      if (user.roles.includes(granted)) throw new InvalidStateError(`user ${userId} already has role ${granted}`);
      if (user.roles.length >= LIMITS.roles) {
        throw new InvalidStateError(`user ${userId} already has the maximum of ${LIMITS.roles} roles`);
      }
      user.roles = [...user.roles, granted].sort();
      return ['roles'];
    });
  }

  /**
   * Revokes a role the user holds.
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (not held; erased),
   * `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async revokeRole(context: CommandContext, id: string, role: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const revoked = normalizeRole(role);
    return this.#mutate(ctx, userId, 'user.role_revoked', undefined, (_tx, user) => {
      if (!user.roles.includes(revoked)) throw new InvalidStateError(`user ${userId} does not have role ${revoked}`);
      user.roles = user.roles.filter((r) => r !== revoked);
      return ['roles'];
    });
  }

  /**
   * Suspends an active user; the reason is kept on the user record only (it
   * is personal data: erasure clears it, events never carry it).
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (already suspended;
   * erased), `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async suspendUser(context: CommandContext, id: string, input: { reason: string }): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const raw = readInput(input, 'input', ['reason']);
    const reason = normalizeReason(raw.reason);
    return this.#mutate(ctx, userId, 'user.suspended', undefined, (_tx, user) => {
      if (user.status === 'suspended') throw new InvalidStateError(`user ${userId} is already suspended`);
      user.status = 'suspended';
      user.suspendedReason = reason;
      return ['status'];
    });
  }

  /**
   * Reactivates a suspended user.
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (not suspended;
   * erased), `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async reactivateUser(context: CommandContext, id: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    return this.#mutate(ctx, userId, 'user.reactivated', undefined, (_tx, user) => {
      if (user.status !== 'suspended') throw new InvalidStateError(`user ${userId} is not suspended`);
      user.status = 'active';
      user.suspendedReason = null;
      return ['status'];
    });
  }

  /**
   * Clears every personal field, releases email, handle and identities, and
   * leaves a tombstone with status `erased`. Audit and outbox never held
   * personal values, so nothing personal is left in the store (what stays on
   * disk until VACUUM, in WAL and in backups: docs/security.md).
   *
   * @throws `invalid_input`, `not_found`, `invalid_state` (already erased),
   * `version_conflict`, `schema_not_ready`, `store_unavailable`.
   */
  async eraseUser(context: CommandContext, id: string): Promise<User> {
    return this.#eraseUser(context, id, undefined);
  }

  async #eraseUser(context: CommandContext, id: string, companion: Companion | undefined): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    return this.#mutate(ctx, userId, 'user.erased', companion, (tx, user) => {
      if (user.email !== null) release(tx, 'email', emailIndexKey(user.email));
      if (user.handle !== null) release(tx, 'handle', user.handle);
      for (const identity of user.identities) release(tx, 'identity', identityIndexId(identity));
      Object.assign(user, {
        status: 'erased',
        email: null,
        emailVerifiedAt: null,
        handle: null,
        displayName: null,
        locale: null,
        roles: [],
        identities: [],
        attributes: {},
        suspendedReason: null,
      } satisfies Partial<UserData>);
      return [
        'status',
        'email',
        'emailVerifiedAt',
        'handle',
        'displayName',
        'locale',
        'roles',
        'identities',
        'attributes',
      ];
    });
  }

  // ----- queries

  /**
   * The user, or null; erased users read as tombstones.
   *
   * @throws `invalid_input`, `schema_not_ready`, `store_unavailable`.
   */
  async getUser(id: string): Promise<User | null> {
    const userId = normalizeUserId(id);
    return this.#seen(await this.#store.getRecord(USER_KIND, userId));
  }

  /**
   * The user holding this address in any spelling (case, width,
   * normalization), or null.
   *
   * @throws `invalid_input`, `schema_not_ready`, `store_unavailable`.
   */
  async findUserByEmail(email: string): Promise<User | null> {
    return this.#findBy('email', normalizeEmail(email).indexKey);
  }

  /**
   * The user holding this handle (any case), or null.
   *
   * @throws `invalid_input`, `schema_not_ready`, `store_unavailable`.
   */
  async findUserByHandle(handle: string): Promise<User | null> {
    return this.#findBy('handle', normalizeHandle(handle));
  }

  /**
   * The user this external identity is linked to, or null.
   *
   * @throws `invalid_input`, `schema_not_ready`, `store_unavailable`.
   */
  async findUserByIdentity(provider: string, subject: string): Promise<User | null> {
    return this.#findBy('identity', identityIndexId(normalizeIdentity({ provider, subject })));
  }

  /**
   * Users by id ascending (UUIDv7 ids: roughly by registration time), keyset-paged.
   *
   * @throws `invalid_input` (limit outside 1..1000, bad cursor), `schema_not_ready`, `store_unavailable`.
   */
  async listUsers(page: { after?: string; limit?: number } = {}): Promise<UserPage> {
    const { after, limit } = normalizeRecordPage(USER_KIND, readInput(page, 'page', ['after', 'limit']));
    const records = await this.#store.listRecords(USER_KIND, after === null ? { limit } : { after, limit });
    const users = records.map(userFromRecord);
    return { users, next: users.length === limit ? (users[users.length - 1]?.id ?? null) : null };
  }

  // ----- internals

  #context(context: CommandContext): { actor: string; expectedVersion: number | undefined } {
    const raw = readInput(context, 'context', ['actor', 'expectedVersion']);
    return { actor: normalizeActor(raw.actor), expectedVersion: normalizeExpectedVersion(raw.expectedVersion) };
  }

  /** A timestamp from the injected clock; a broken clock is the engine's fault, not the caller's. */
  #now(): string {
    const date = this.#clock();
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new TypeError('user-engine: the clock option returned something that is not a valid Date');
    }
    return date.toISOString();
  }

  /** A new user id from the injected generator; a broken one is the engine's fault, not the caller's. */
  #newUserId(): string {
    const id = this.#newId();
    if (typeof id !== 'string' || !isValidId(id)) {
      throw new TypeError('user-engine: the newId option returned something that is not a valid record id');
    }
    return id;
  }

  async #findBy(unique: Uniqueness, indexId: string): Promise<User | null> {
    const kind = UNIQUE[unique].kind;
    if (this.#store.getIndexedRecord !== undefined) {
      return this.#seen(
        await this.#store.getIndexedRecord({ kind, id: indexId }, { kind: USER_KIND, field: 'userId' }),
      );
    }
    const index = await this.#store.getRecord(kind, indexId);
    if (index === null) return null;
    return this.getUser((index.data as unknown as IndexData).userId);
  }

  /** A user record just read: remembered for the commands that may follow, returned as a `User`. */
  #seen(record: StoreRecord | null): User | null {
    if (record === null) return null;
    this.#recent.remember(record.id, record.version, record.data as unknown as UserData);
    return userFromRecord(record);
  }

  /**
   * Loads the user — from memory on the first attempt when the engine
   * remembers it (a guess the commit's version check settles), otherwise from
   * the store — lets `change` edit its data, then writes it with its audit
   * entry and event.
   */
  async #mutate(
    ctx: { actor: string; expectedVersion: number | undefined },
    userId: string,
    action: UserChangeTopic,
    companion: Companion | undefined,
    change: (tx: StoreTransaction, user: UserData, claim: Claim) => UserField[],
  ): Promise<User> {
    return this.#run(userId, async (tx, claim, attempt) => {
      const remembered = attempt.number === 1 ? this.#recent.recall(userId) : undefined;
      const guess =
        remembered !== undefined && (ctx.expectedVersion === undefined || ctx.expectedVersion === remembered.version)
          ? remembered
          : undefined;
      attempt.guessed = guess !== undefined;
      const record = guess ?? (await tx.get(USER_KIND, userId));
      if (record === null) throw new NotFoundError(`no user with id ${userId}`);
      if (ctx.expectedVersion !== undefined && record.version !== ctx.expectedVersion) {
        throw new VersionConflictError(
          USER_KIND,
          `user ${userId} is at version ${record.version}, not the expected ${ctx.expectedVersion}`,
        );
      }
      const data = record.data as unknown as UserData;
      // Users written before the field existed: never verified.
      data.emailVerifiedAt ??= null;
      if (data.status === 'erased') throw new InvalidStateError(`user ${userId} is erased; it accepts no command`);
      if (companion !== undefined) await companion(tx, toUser(userId, record.version, data));
      const fields = change(tx, data, claim);
      data.updatedAt = this.#now();
      const version = record.version + 1;
      tx.put({ kind: USER_KIND, id: userId, data: asJson(data), expectedVersion: record.version });
      appendChange(tx, ctx, userId, version, data.status, action, fields);
      return { id: userId, version, data };
    });
  }

  /**
   * Runs `work` as one store transaction and remembers the user it leaves.
   * An attempt that started from a remembered user (`attempt.guessed`) is a
   * guess: if it fails in any way but an outage, the user is forgotten and
   * the command runs again on a fresh read, whatever the failure said. For
   * the rest, an error raised by `work` itself (a state rule, a caller's
   * stale `expectedVersion`) is final; a conflict found at commit is either a
   * claimed value already taken (reported as `*_taken`) or a concurrent
   * writer, retried with jittered exponential backoff a bounded number of
   * times.
   */
  async #run(
    userId: string | null,
    work: (tx: StoreTransaction, claim: Claim, attempt: Attempt) => Promise<Written>,
  ): Promise<User> {
    for (let number = 1, retries = 0; ; number++) {
      const attempt: Attempt = { number, guessed: false };
      const claims = new Map<string, Uniqueness>();
      const claim: Claim = (tx, unique, value, owner) => {
        const kind = UNIQUE[unique].kind;
        tx.put({ kind, id: value, data: { userId: owner } satisfies IndexData, expectedVersion: 0 });
        claims.set(`${kind}:${value}`, unique);
      };
      let raisedByWork = false;
      try {
        const written = await this.#store.transaction(async (tx) => {
          try {
            return await work(tx, claim, attempt);
          } catch (error) {
            raisedByWork = true;
            throw error;
          }
        });
        this.#recent.remember(written.id, written.version, written.data);
        return toUser(written.id, written.version, written.data);
      } catch (error) {
        if (attempt.guessed && userId !== null) {
          this.#recent.forget(userId);
          const aborted = (error as { transactionAborted?: unknown }).transactionAborted === true;
          // A dead transaction of the application's cannot run the command again: report the conflict
          // (not a *_taken, which a stale guess could have caused) and let the application roll back.
          if (aborted) throw new VersionConflictError(USER_KIND, undefined, { cause: error, transactionAborted: true });
          if (!UserEngineError.is(error, 'store_unavailable') && !UserEngineError.is(error, 'schema_not_ready')) {
            continue;
          }
        }
        if (raisedByWork || !UserEngineError.is(error, 'version_conflict')) throw error;
        const conflict = error as VersionConflictError;
        const transactionAborted = conflict.transactionAborted === true;
        const taken = claims.get(conflictKeyOf(error) ?? '');
        if (taken !== undefined) {
          throw new UniquenessError(UNIQUE[taken].taken, UNIQUE[taken].message, { transactionAborted });
        }
        // The application's transaction is dead: a retry could only meet 25P02. It must roll back.
        if (transactionAborted) throw conflict;
        const kind = conflict.kind ?? null;
        retries += 1;
        if (retries >= this.#retry.attempts) {
          const subject = userId === null ? 'registering a user' : `user ${userId}`;
          throw new VersionConflictError(
            kind,
            `${subject}: every one of ${retries} attempts met a concurrent writer; giving up`,
            { cause: error },
          );
        }
        this.#onRetry?.({ attempt: retries, kind, userId });
        const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** retries);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}

/** One attempt of a command: its number, and whether it started from a remembered user rather than a read. */
interface Attempt {
  number: number;
  guessed: boolean;
}

/** What a command's transaction leaves: the user record as written. */
interface Written {
  id: string;
  version: number;
  data: UserData;
}

/** The values each user holds uniquely, and what a taken one is reported as. */
type Uniqueness = 'email' | 'handle' | 'identity';

const UNIQUE: Record<
  Uniqueness,
  { kind: string; taken: 'email_taken' | 'handle_taken' | 'identity_taken'; message: string }
> = {
  email: {
    kind: EMAIL_INDEX_KIND,
    taken: 'email_taken',
    message: 'that email address is already in use by another user',
  },
  handle: { kind: HANDLE_INDEX_KIND, taken: 'handle_taken', message: 'that handle is already in use by another user' },
  identity: {
    kind: IDENTITY_INDEX_KIND,
    taken: 'identity_taken',
    message: 'that external identity is already linked to a user',
  },
};

/** Buffers the creation of a uniqueness index record; a conflict on it at commit means "taken". */
type Claim = (tx: StoreTransaction, unique: Uniqueness, value: string, userId: string) => void;

/**
 * Deletes a user's index record. Index records are created at version 1 and
 * never updated, so the delete needs no read: one less round trip.
 */
function release(tx: StoreTransaction, unique: Uniqueness, value: string): void {
  tx.delete(UNIQUE[unique].kind, value, 1);
}

/**
 * The audit entry and the outbox event of one change: ids, versions, status
 * and the names of the fields changed, never their values.
 */
function appendChange(
  tx: StoreTransaction,
  ctx: { actor: string },
  userId: string,
  version: number,
  status: UserData['status'],
  action: UserChangeTopic,
  fields: UserField[],
): void {
  tx.appendAudit({
    actor: ctx.actor,
    action,
    recordKey: `${USER_KIND}:${userId}`,
    detail: { fields, userId, version },
  });
  tx.enqueueOutbox({ topic: action, key: userId, payload: { fields, status, userId, version } });
}

function asJson(data: UserData): JsonObject {
  return data as unknown as JsonObject;
}

import {
  InvalidStateError,
  NotFoundError,
  UniquenessError,
  UserEngineError,
  ValidationError,
  VersionConflictError,
} from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import { normalizeRecordPage } from '../store/queries.js';
import type { StoreRecord } from '../store/record.js';
import type { StoreTransaction, UserEngineStore } from '../store/store.js';
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
  normalizeUserId,
  rejectUnknownKeys,
  requireObject,
} from './validation.js';

/** Who is acting, and optionally the user version they last saw. */
export interface CommandContext {
  /** Recorded in the audit log: a user id, a service name, `cli`. */
  actor: string;
  /** The user's version the caller last read; a stale one gives `version_conflict` instead of a retry. */
  expectedVersion?: number;
}

export interface RegisterUserInput {
  email: string;
  handle?: string | null;
  displayName?: string | null;
  locale?: string | null;
  attributes?: JsonObject;
}

export interface ProfilePatch {
  displayName?: string | null;
  locale?: string | null;
  /** Replaces the whole attributes object. */
  attributes?: JsonObject;
}

export interface RetryPolicy {
  /** Total attempts of a command that keeps meeting concurrent writers; at least 5. */
  attempts: number;
  /** Backoff before attempt n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface UserEngineOptions {
  store: UserEngineStore;
  /** Source of user timestamps; `() => new Date()` by default. */
  clock?: () => Date;
  /** Source of new user ids; UUIDv7 by default. */
  newId?: () => string;
  retry?: Partial<RetryPolicy>;
  /**
   * Called each time a command meets a concurrent writer and is about to be
   * retried — for metrics. `key` is the record that conflicted (it may hold
   * an email address: do not log it as is).
   *
   * @example new UserEngine({ store, onRetry: () => metrics.increment('user_engine.retries') })
   */
  onRetry?: (info: { attempt: number; key: string | null }) => void;
}

export interface UserPage {
  users: User[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 2, maxDelayMs: 100 };

/** Conflicts the caller caused (a stale `expectedVersion`): never retried. */
const finalConflicts = new WeakSet<object>();

interface Loaded {
  record: StoreRecord;
  data: UserData;
}

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
  readonly #onRetry: ((info: { attempt: number; key: string | null }) => void) | undefined;

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
  }

  get store(): UserEngineStore {
    return this.#store;
  }

  // ----- commands

  async registerUser(context: CommandContext, input: RegisterUserInput): Promise<User> {
    const ctx = this.#context(context);
    if (ctx.expectedVersion !== undefined) {
      throw new ValidationError('expectedVersion', 'cannot be given when registering a new user');
    }
    const raw = requireObject(input, 'input');
    rejectUnknownKeys(raw, ['email', 'handle', 'displayName', 'locale', 'attributes'], 'input');
    const email = normalizeEmail(raw.email);
    const handle = raw.handle === undefined || raw.handle === null ? null : normalizeHandle(raw.handle);
    const displayName =
      raw.displayName === undefined || raw.displayName === null ? null : normalizeDisplayName(raw.displayName);
    const locale = raw.locale === undefined || raw.locale === null ? null : normalizeLocale(raw.locale);
    const attributes = raw.attributes === undefined ? {} : normalizeAttributes(raw.attributes);
    const fields = ['email'];
    if (handle !== null) fields.push('handle');
    if (displayName !== null) fields.push('displayName');
    if (locale !== null) fields.push('locale');
    if (raw.attributes !== undefined) fields.push('attributes');
    // Blind creates: uniqueness is decided by the commit itself (an index record that already
    // exists is a conflict on its key), so registering costs one round trip and cannot race.
    return this.#run(async (tx, claim) => {
      const id = normalizeUserId(this.#newId(), 'newId()');
      claim(tx, EMAIL_INDEX_KIND, email.indexKey, id);
      if (handle !== null) claim(tx, HANDLE_INDEX_KIND, handle, id);
      const now = this.#now();
      // Keys in sorted order, so canonical serialization can take its fast path.
      const data: UserData = {
        attributes,
        createdAt: now,
        displayName,
        email: email.email,
        handle,
        identities: [],
        locale,
        roles: [],
        status: 'active',
        suspendedReason: null,
        updatedAt: now,
      };
      tx.put({ kind: USER_KIND, id, data: asJson(data), expectedVersion: 0 });
      return this.#record(tx, ctx, id, 1, data, 'user.registered', fields);
    });
  }

  async updateProfile(context: CommandContext, id: string, patch: ProfilePatch): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const raw = requireObject(patch, 'patch');
    rejectUnknownKeys(raw, ['displayName', 'locale', 'attributes'], 'patch');
    const changes: Partial<Pick<UserData, 'displayName' | 'locale' | 'attributes'>> = {};
    if (raw.displayName !== undefined) {
      changes.displayName = raw.displayName === null ? null : normalizeDisplayName(raw.displayName);
    }
    if (raw.locale !== undefined) changes.locale = raw.locale === null ? null : normalizeLocale(raw.locale);
    if (raw.attributes !== undefined) changes.attributes = normalizeAttributes(raw.attributes);
    const fields = Object.keys(changes);
    if (fields.length === 0)
      throw new ValidationError('patch', 'names no field to update (displayName, locale, attributes)');
    return this.#mutate(ctx, userId, 'user.profile_updated', (_tx, user) => {
      Object.assign(user, changes);
      return fields;
    });
  }

  async changeEmail(context: CommandContext, id: string, email: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const next = normalizeEmail(email);
    return this.#mutate(ctx, userId, 'user.email_changed', (tx, user, claim) => {
      const current = user.email === null ? null : normalizeEmail(user.email).indexKey;
      if (current !== next.indexKey) {
        claim(tx, EMAIL_INDEX_KIND, next.indexKey, userId);
        if (current !== null) release(tx, EMAIL_INDEX_KIND, current);
      }
      user.email = next.email;
      return ['email'];
    });
  }

  async changeHandle(context: CommandContext, id: string, handle: string | null): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const next = handle === null ? null : normalizeHandle(handle);
    return this.#mutate(ctx, userId, 'user.handle_changed', (tx, user, claim) => {
      if (user.handle !== next) {
        if (next !== null) claim(tx, HANDLE_INDEX_KIND, next, userId);
        if (user.handle !== null) release(tx, HANDLE_INDEX_KIND, user.handle);
      }
      user.handle = next;
      return ['handle'];
    });
  }

  async linkIdentity(context: CommandContext, id: string, identity: LinkedIdentity): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const link = normalizeIdentity(identity);
    return this.#mutate(ctx, userId, 'user.identity_linked', (tx, user, claim) => {
      if (user.identities.length >= LIMITS.identities) {
        throw new InvalidStateError(`user ${userId} already has the maximum of ${LIMITS.identities} identities`);
      }
      claim(tx, IDENTITY_INDEX_KIND, identityIndexId(link), userId);
      user.identities.push(link);
      return ['identities'];
    });
  }

  async unlinkIdentity(context: CommandContext, id: string, identity: LinkedIdentity): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const link = normalizeIdentity(identity);
    return this.#mutate(ctx, userId, 'user.identity_unlinked', (tx, user) => {
      const at = user.identities.findIndex((i) => i.provider === link.provider && i.subject === link.subject);
      if (at < 0) throw new NotFoundError(`user ${userId} has no such ${link.provider} identity linked`);
      release(tx, IDENTITY_INDEX_KIND, identityIndexId(link));
      user.identities.splice(at, 1);
      return ['identities'];
    });
  }

  async grantRole(context: CommandContext, id: string, role: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const granted = normalizeRole(role);
    return this.#mutate(ctx, userId, 'user.role_granted', (_tx, user) => {
      if (user.roles.includes(granted)) throw new InvalidStateError(`user ${userId} already has role ${granted}`);
      if (user.roles.length >= LIMITS.roles) {
        throw new InvalidStateError(`user ${userId} already has the maximum of ${LIMITS.roles} roles`);
      }
      user.roles = [...user.roles, granted].sort();
      return ['roles'];
    });
  }

  async revokeRole(context: CommandContext, id: string, role: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const revoked = normalizeRole(role);
    return this.#mutate(ctx, userId, 'user.role_revoked', (_tx, user) => {
      if (!user.roles.includes(revoked)) throw new InvalidStateError(`user ${userId} does not have role ${revoked}`);
      user.roles = user.roles.filter((r) => r !== revoked);
      return ['roles'];
    });
  }

  async suspendUser(context: CommandContext, id: string, input: { reason: string }): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    const raw = requireObject(input, 'input');
    rejectUnknownKeys(raw, ['reason'], 'input');
    const reason = normalizeReason(raw.reason);
    return this.#mutate(ctx, userId, 'user.suspended', (_tx, user) => {
      if (user.status === 'suspended') throw new InvalidStateError(`user ${userId} is already suspended`);
      user.status = 'suspended';
      user.suspendedReason = reason;
      return ['status'];
    });
  }

  async reactivateUser(context: CommandContext, id: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    return this.#mutate(ctx, userId, 'user.reactivated', (_tx, user) => {
      if (user.status !== 'suspended') throw new InvalidStateError(`user ${userId} is not suspended`);
      user.status = 'active';
      user.suspendedReason = null;
      return ['status'];
    });
  }

  /**
   * Clears every personal field, releases email, handle and identities, and
   * leaves a tombstone with status `erased`. Audit and outbox never held
   * personal values, so nothing personal is left in the store.
   */
  async eraseUser(context: CommandContext, id: string): Promise<User> {
    const ctx = this.#context(context);
    const userId = normalizeUserId(id);
    return this.#mutate(ctx, userId, 'user.erased', (tx, user) => {
      if (user.email !== null) release(tx, EMAIL_INDEX_KIND, normalizeEmail(user.email).indexKey);
      if (user.handle !== null) release(tx, HANDLE_INDEX_KIND, user.handle);
      for (const identity of user.identities) release(tx, IDENTITY_INDEX_KIND, identityIndexId(identity));
      Object.assign(user, {
        status: 'erased',
        email: null,
        handle: null,
        displayName: null,
        locale: null,
        roles: [],
        identities: [],
        attributes: {},
        suspendedReason: null,
      } satisfies Partial<UserData>);
      return ['status', 'email', 'handle', 'displayName', 'locale', 'roles', 'identities', 'attributes'];
    });
  }

  // ----- queries

  /** The user, or null; erased users read as tombstones. */
  async getUser(id: string): Promise<User | null> {
    const userId = normalizeUserId(id);
    const record = await this.#store.getRecord(USER_KIND, userId);
    return record === null ? null : userFromRecord(record);
  }

  async findUserByEmail(email: string): Promise<User | null> {
    return this.#findBy(EMAIL_INDEX_KIND, normalizeEmail(email).indexKey);
  }

  async findUserByHandle(handle: string): Promise<User | null> {
    return this.#findBy(HANDLE_INDEX_KIND, normalizeHandle(handle));
  }

  async findUserByIdentity(provider: string, subject: string): Promise<User | null> {
    return this.#findBy(IDENTITY_INDEX_KIND, identityIndexId(normalizeIdentity({ provider, subject })));
  }

  /** Users by id ascending (UUIDv7 ids: roughly by registration time). */
  async listUsers(page: { after?: string; limit?: number } = {}): Promise<UserPage> {
    const { after, limit } = normalizeRecordPage(USER_KIND, page);
    const records = await this.#store.listRecords(USER_KIND, after === null ? { limit } : { after, limit });
    const users = records.map(userFromRecord);
    return { users, next: users.length === limit ? (users[users.length - 1]?.id ?? null) : null };
  }

  // ----- internals

  #context(context: CommandContext): { actor: string; expectedVersion: number | undefined } {
    const raw = requireObject(context, 'context');
    return { actor: normalizeActor(raw.actor), expectedVersion: normalizeExpectedVersion(raw.expectedVersion) };
  }

  #now(): string {
    const date = this.#clock();
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new UserEngineError('invalid_input', 'clock() returned an invalid Date');
    }
    return date.toISOString();
  }

  async #findBy(kind: string, indexId: string): Promise<User | null> {
    if (this.#store.getIndexedRecord !== undefined) {
      const record = await this.#store.getIndexedRecord({ kind, id: indexId }, { kind: USER_KIND, field: 'userId' });
      return record === null ? null : userFromRecord(record);
    }
    const index = await this.#store.getRecord(kind, indexId);
    if (index === null) return null;
    return this.getUser((index.data as unknown as IndexData).userId);
  }

  /** Loads the user, lets `change` edit its data, then writes it with its audit entry and event. */
  async #mutate(
    ctx: { actor: string; expectedVersion: number | undefined },
    userId: string,
    action: string,
    change: (tx: StoreTransaction, user: UserData, claim: Claim) => string[],
  ): Promise<User> {
    return this.#run(async (tx, claim) => {
      const { record, data } = await this.#load(tx, userId, ctx.expectedVersion);
      if (data.status === 'erased') throw new InvalidStateError(`user ${userId} is erased; it accepts no command`);
      const fields = change(tx, data, claim);
      data.updatedAt = this.#now();
      tx.put({ kind: USER_KIND, id: userId, data: asJson(data), expectedVersion: record.version });
      return this.#record(tx, ctx, userId, record.version + 1, data, action, fields);
    });
  }

  async #load(tx: StoreTransaction, userId: string, expectedVersion: number | undefined): Promise<Loaded> {
    const record = await tx.get(USER_KIND, userId);
    if (record === null) throw new NotFoundError(`no user with id ${userId}`);
    if (expectedVersion !== undefined && record.version !== expectedVersion) {
      const error = new VersionConflictError(
        record.key,
        `user ${userId} is at version ${record.version}, not the expected ${expectedVersion}`,
      );
      finalConflicts.add(error);
      throw error;
    }
    return { record, data: record.data as unknown as UserData };
  }

  /** Audit entry and outbox event: ids, versions and field names only, never values. */
  #record(
    tx: StoreTransaction,
    ctx: { actor: string },
    userId: string,
    version: number,
    data: UserData,
    action: string,
    fields: string[],
  ): User {
    tx.appendAudit({
      actor: ctx.actor,
      action,
      recordKey: `${USER_KIND}:${userId}`,
      detail: { fields, userId, version },
    });
    tx.enqueueOutbox({ topic: action, key: userId, payload: { fields, status: data.status, userId, version } });
    return toUser(userId, version, data);
  }

  /**
   * Runs `work` as one store transaction. A conflict caused by a concurrent
   * writer is retried with jittered exponential backoff, a bounded number of
   * times; a conflict the caller caused (stale `expectedVersion`) is not.
   */
  async #run<T>(work: (tx: StoreTransaction, claim: Claim) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const claims = new Map<string, TakenCode>();
      const claim: Claim = (tx, kind, value, userId) => {
        tx.put({ kind, id: value, data: indexData(userId), expectedVersion: 0 });
        claims.set(`${kind}:${value}`, TAKEN[kind] ?? 'email_taken');
      };
      try {
        return await this.#store.transaction((tx) => work(tx, claim));
      } catch (error) {
        if (!UserEngineError.is(error, 'version_conflict') || finalConflicts.has(error)) throw error;
        // The commit found a claimed index record already there: the value is taken.
        const key = (error as VersionConflictError).key;
        const taken = key === null ? undefined : claims.get(key);
        if (taken !== undefined) throw new UniquenessError(taken, TAKEN_MESSAGE[taken]);
        if (attempt >= this.#retry.attempts) throw error;
        this.#onRetry?.({ attempt, key });
        const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}

type TakenCode = 'email_taken' | 'handle_taken' | 'identity_taken';

/** Buffers the creation of a uniqueness index record; a conflict on it at commit means "taken". */
type Claim = (tx: StoreTransaction, kind: string, value: string, userId: string) => void;

const TAKEN: Record<string, TakenCode> = {
  [EMAIL_INDEX_KIND]: 'email_taken',
  [HANDLE_INDEX_KIND]: 'handle_taken',
  [IDENTITY_INDEX_KIND]: 'identity_taken',
};

const TAKEN_MESSAGE: Record<TakenCode, string> = {
  email_taken: 'that email address is already in use by another user',
  handle_taken: 'that handle is already in use by another user',
  identity_taken: 'that external identity is already linked to a user',
};

/**
 * Deletes a user's index record. Index records are created at version 1 and
 * never updated, so the delete needs no read: one less round trip.
 */
function release(tx: StoreTransaction, kind: string, value: string): void {
  tx.delete(kind, value, 1);
}

function asJson(data: UserData): JsonObject {
  return data as unknown as JsonObject;
}

function indexData(userId: string): JsonObject {
  return { userId } satisfies IndexData;
}

/** The stable code of every error the library raises on purpose; branch on it, never on messages. */
export type UserEngineErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'email_taken'
  | 'handle_taken'
  | 'identity_taken'
  | 'version_conflict'
  | 'invalid_state'
  | 'schema_not_ready'
  | 'store_unavailable';

const ERROR_CODES: ReadonlySet<string> = new Set<UserEngineErrorCode>([
  'invalid_input',
  'not_found',
  'email_taken',
  'handle_taken',
  'identity_taken',
  'version_conflict',
  'invalid_state',
  'schema_not_ready',
  'store_unavailable',
]);

/** Marks our errors by a registered symbol so the check survives duplicate library copies. */
const BRAND = Symbol.for('user-engine.error');

/**
 * Every error the library raises on purpose is a `UserEngineError` with a
 * stable `code`. Callers branch on the code, never on the message or class
 * identity: `UserEngineError.is(err, 'email_taken')` works even when two
 * copies of the library are loaded (a bundler duplicate, a linked package).
 * No error carries a personal value (an email, a handle, an input) in its
 * message, fields or cause.
 *
 * @example
 * try { await engine.registerUser(ctx, { email }) }
 * catch (err) { if (UserEngineError.is(err, 'email_taken')) return conflict() }
 */
export class UserEngineError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: UserEngineErrorCode;
  /** The brand `UserEngineError.is` recognizes, shared by every copy of the library. */
  readonly [BRAND] = true;

  constructor(code: UserEngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** True when `err` is a user-engine error (from any copy of the library), optionally with `code`. */
  static is<C extends UserEngineErrorCode>(err: unknown, code?: C): err is UserEngineError & { code: C } {
    if (typeof err !== 'object' || err === null) return false;
    const candidate = err as { [BRAND]?: unknown; code?: unknown };
    if (candidate[BRAND] !== true || typeof candidate.code !== 'string') return false;
    if (!ERROR_CODES.has(candidate.code)) return false;
    return code === undefined || candidate.code === code;
  }
}

/** Bad input. Raised before any store is touched; `field` names the offending input. */
export class ValidationError extends UserEngineError {
  /** The input that failed, as a path: `email`, `attributes.plan`, `context.expectedversion`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('invalid_input', `${field}: ${message}`);
    this.field = field;
  }
}

/** No user with that id, or no such identity on the user (`not_found`). */
export class NotFoundError extends UserEngineError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** Raised when a uniqueness rule (email, handle, identity) is already held by another user. */
export class UniquenessError extends UserEngineError {
  /** True when the conflict aborted the application's own transaction on the store's connection: roll it back. */
  readonly transactionAborted: boolean;
  constructor(
    code: 'email_taken' | 'handle_taken' | 'identity_taken',
    message: string,
    options?: { transactionAborted?: boolean },
  ) {
    super(code, message);
    this.transactionAborted = options?.transactionAborted === true;
  }
}

/**
 * A record changed since it was read, or a write's expected version did not
 * hold. It names the record's `kind`, never its id: the ids of index records
 * are the unique values themselves (an email address), and applications log
 * errors.
 */
export class VersionConflictError extends UserEngineError {
  /** The kind of the record that conflicted (`user`, `user-email`, …), when the store knows it. */
  readonly kind: string | null;
  /**
   * True when the conflict aborted the application's own transaction (the
   * store's connection was inside a `BEGIN` the application issued, and the
   * server raised the conflict): roll that transaction back; nothing of the
   * command was applied, and the engine did not retry it.
   */
  readonly transactionAborted: boolean;
  constructor(kind: string | null, message?: string, options?: { cause?: unknown; transactionAborted?: boolean }) {
    super(
      'version_conflict',
      message ?? (kind === null ? 'version conflict' : `version conflict on a ${kind} record`),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.kind = kind;
    this.transactionAborted = options?.transactionAborted === true;
  }
}

/**
 * The full record key behind a store's conflict, kept beside the error rather
 * than on it, so that nothing that serializes or logs the error can reveal it;
 * the engine reads it to tell which of its claims was taken. The table lives
 * on `globalThis` under a registered symbol so that it is shared by duplicate
 * copies of the library, as `UserEngineError.is` is.
 */
const conflictKeys = sharedConflictKeys();

function sharedConflictKeys(): WeakMap<object, string> {
  const slot = Symbol.for('user-engine.conflict-keys');
  const holder = globalThis as { [slot]?: WeakMap<object, string> };
  holder[slot] ??= new WeakMap<object, string>();
  return holder[slot];
}

/** A store's conflict on `key` (`kind:id`): the error names the kind; the key stays out of it. */
export function conflictOnKey(
  key: string,
  options?: { cause?: unknown; transactionAborted?: boolean },
): VersionConflictError {
  const colon = key.indexOf(':');
  const error = new VersionConflictError(colon > 0 ? key.slice(0, colon) : null, undefined, options);
  conflictKeys.set(error, key);
  return error;
}

/** The record key a store's conflict was about, or null (internal: for the engine's claims). */
export function conflictKeyOf(error: unknown): string | null {
  return typeof error === 'object' && error !== null ? (conflictKeys.get(error) ?? null) : null;
}

/** The command is not allowed in the user's state, or a limit is reached (`invalid_state`). */
export class InvalidStateError extends UserEngineError {
  constructor(message: string) {
    super('invalid_state', message);
  }
}

/** The store's schema is not at the version this code needs: run `migrate()` (`schema_not_ready`). */
export class SchemaNotReadyError extends UserEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('schema_not_ready', message, options);
  }
}

/** The store cannot be reached (connection lost, closed store). The driver error is the `cause`. */
export class StoreUnavailableError extends UserEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, options);
  }
}

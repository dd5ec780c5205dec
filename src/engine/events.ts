import { ValidationError } from '../store/errors.js';
import type { OutboxMessage } from '../store/store.js';
import type { UserStatus } from './user.js';

/** The topic of an event a user command writes, one per command. */
export type UserChangeTopic =
  | 'user.registered'
  | 'user.profile_updated'
  | 'user.email_changed'
  | 'user.email_verified'
  | 'user.email_unverified'
  | 'user.handle_changed'
  | 'user.identity_linked'
  | 'user.identity_unlinked'
  | 'user.role_granted'
  | 'user.role_revoked'
  | 'user.suspended'
  | 'user.reactivated'
  | 'user.erased';

/** The topic of a sign-in or sign-out the Auth.js adapter records. */
export type SessionTopic = 'user.signed_in' | 'user.signed_out';

/** The topic of every event user-engine writes to the outbox. */
export type UserEventTopic = UserChangeTopic | SessionTopic;

const CHANGE_TOPICS: readonly UserChangeTopic[] = [
  'user.registered',
  'user.profile_updated',
  'user.email_changed',
  'user.email_verified',
  'user.email_unverified',
  'user.handle_changed',
  'user.identity_linked',
  'user.identity_unlinked',
  'user.role_granted',
  'user.role_revoked',
  'user.suspended',
  'user.reactivated',
  'user.erased',
];
const SESSION_TOPICS: readonly SessionTopic[] = ['user.signed_in', 'user.signed_out'];

/** Every event topic: the commands' in the order of the engine's commands, then the adapter's sessions. */
export const USER_EVENT_TOPICS: readonly UserEventTopic[] = Object.freeze([...CHANGE_TOPICS, ...SESSION_TOPICS]);

/** The names of the user's fields an event can say changed — names only, never values. */
export type UserField =
  | 'email'
  | 'emailVerifiedAt'
  | 'handle'
  | 'displayName'
  | 'locale'
  | 'attributes'
  | 'identities'
  | 'roles'
  | 'status';

const FIELDS: ReadonlySet<string> = new Set<UserField>([
  'email',
  'emailVerifiedAt',
  'handle',
  'displayName',
  'locale',
  'attributes',
  'identities',
  'roles',
  'status',
]);
const STATUSES: ReadonlySet<string> = new Set<UserStatus>(['active', 'suspended', 'erased']);
const CHANGES: ReadonlySet<string> = new Set(CHANGE_TOPICS);
const SESSIONS: ReadonlySet<string> = new Set(SESSION_TOPICS);

/** What every event carries: which message it is, and when it committed. */
interface EventEnvelope {
  /** The outbox message id: unique per event, the broker's de-duplication key. */
  id: string;
  /** Commit order within the store; a user's events are delivered in this order. */
  seq: number;
  /** Payload shape version: 1. */
  schemaVersion: 1;
  userId: string;
  /** When the change committed (ISO-8601 UTC). */
  createdAt: string;
}

/**
 * A change to a user, as a consumer reads it: which command, the user's
 * version and status after it, and the names of the fields it touched —
 * never their values (read the user for those; an erased user has none).
 * Versions of one user increase by one per change: a consumer that applies
 * events can skip one whose version it has already applied (a redelivery).
 * `schemaVersion` is the payload's shape; a consumer that meets a version it
 * does not know should stop rather than guess.
 */
export interface UserEvent<T extends UserChangeTopic = UserChangeTopic> extends EventEnvelope {
  topic: T;
  /** The user's version after the change. */
  version: number;
  /** The user's status after the change. */
  status: UserStatus;
  fields: UserField[];
}

/**
 * A sign-in or sign-out the Auth.js adapter recorded: the user and the
 * session's id (the SHA-256 of its token, never the token).
 */
export interface SessionEvent<T extends SessionTopic = SessionTopic> extends EventEnvelope {
  topic: T;
  session: string;
}

/** Any event user-engine writes, discriminated by `topic`. */
export type AnyUserEvent =
  | { [T in UserChangeTopic]: UserEvent<T> }[UserChangeTopic]
  | { [T in SessionTopic]: SessionEvent<T> }[SessionTopic];

/**
 * Reads an outbox message (as `pendingOutbox`, a relay's `publish`, or a
 * broker consumer that received one hands it over) as a typed engine event,
 * or throws a `ValidationError` naming what does not fit: an unknown topic,
 * a payload of an unknown shape version, a missing or mistyped field.
 *
 * @example
 * const event = parseUserEvent(message);
 * if (event.topic === 'user.erased') await forget(event.userId);
 */
export function parseUserEvent(message: OutboxMessage): AnyUserEvent {
  if (typeof message !== 'object' || message === null) throw new ValidationError('message', 'must be an object');
  const { id, seq, topic, key, payload, createdAt } = message;
  if (typeof topic !== 'string' || !(CHANGES.has(topic) || SESSIONS.has(topic))) {
    throw new ValidationError('topic', 'is not a user-engine event topic');
  }
  if (typeof payload !== 'object' || payload === null) throw new ValidationError('payload', 'must be an object');
  const schemaVersion = payload.schemaVersion ?? 1;
  if (schemaVersion !== 1) throw new ValidationError('payload.schemaVersion', 'is a version this code does not know');
  const { userId } = payload;
  if (typeof userId !== 'string' || userId !== key)
    throw new ValidationError('payload.userId', 'must be the message key');
  const envelope = {
    id: String(id),
    seq: Number(seq),
    schemaVersion: 1 as const,
    userId,
    createdAt: String(createdAt),
  };
  if (SESSIONS.has(topic)) {
    const { session } = payload;
    if (typeof session !== 'string' || !/^[0-9a-f]{64}$/.test(session)) {
      throw new ValidationError('payload.session', 'must be a session hash');
    }
    return { ...envelope, topic: topic as SessionTopic, session } as AnyUserEvent;
  }
  const { version, status, fields } = payload;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError('payload.version', 'must be a positive integer');
  }
  if (typeof status !== 'string' || !STATUSES.has(status))
    throw new ValidationError('payload.status', 'is not a status');
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string' && FIELDS.has(f))) {
    throw new ValidationError('payload.fields', 'must be a list of user field names');
  }
  return {
    ...envelope,
    topic: topic as UserChangeTopic,
    version,
    status: status as UserStatus,
    fields: fields as UserField[],
  } as AnyUserEvent;
}

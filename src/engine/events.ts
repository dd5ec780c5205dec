import { ValidationError } from '../store/errors.js';
import type { OutboxMessage } from '../store/store.js';
import type { UserStatus } from './user.js';

/** The topic of every event the engine writes to the outbox, one per command. */
export type UserEventTopic =
  | 'user.registered'
  | 'user.profile_updated'
  | 'user.email_changed'
  | 'user.handle_changed'
  | 'user.identity_linked'
  | 'user.identity_unlinked'
  | 'user.role_granted'
  | 'user.role_revoked'
  | 'user.suspended'
  | 'user.reactivated'
  | 'user.erased';

/** Every event topic, in the order of the commands that write them. */
export const USER_EVENT_TOPICS: readonly UserEventTopic[] = Object.freeze([
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
]);

/** The names of the user's fields an event can say changed — names only, never values. */
export type UserField =
  | 'email'
  | 'handle'
  | 'displayName'
  | 'locale'
  | 'attributes'
  | 'identities'
  | 'roles'
  | 'status';

const FIELDS: ReadonlySet<string> = new Set<UserField>([
  'email',
  'handle',
  'displayName',
  'locale',
  'attributes',
  'identities',
  'roles',
  'status',
]);
const STATUSES: ReadonlySet<string> = new Set<UserStatus>(['active', 'suspended', 'erased']);
const TOPICS: ReadonlySet<string> = new Set(USER_EVENT_TOPICS);

/**
 * An engine event as a consumer reads it: which change happened to which
 * user, at which version, and the names of the fields it touched — never
 * their values (read the user for those; an erased user has none).
 * `schemaVersion` is the shape of the payload; a consumer that meets a
 * version it does not know should stop rather than guess.
 */
export interface UserEvent<T extends UserEventTopic = UserEventTopic> {
  /** The outbox message id: unique per event, the broker's de-duplication key. */
  id: string;
  /** Commit order within the store; per user, events arrive in this order. */
  seq: number;
  topic: T;
  /** Payload shape version: 1. */
  schemaVersion: 1;
  userId: string;
  /** The user's version after the change. */
  version: number;
  /** The user's status after the change. */
  status: UserStatus;
  fields: UserField[];
  /** When the change committed (ISO-8601 UTC). */
  createdAt: string;
}

/** Any engine event, discriminated by `topic`. */
export type AnyUserEvent = { [T in UserEventTopic]: UserEvent<T> }[UserEventTopic];

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
  if (typeof topic !== 'string' || !TOPICS.has(topic))
    throw new ValidationError('topic', 'is not a user-engine event topic');
  if (typeof payload !== 'object' || payload === null) throw new ValidationError('payload', 'must be an object');
  const schemaVersion = payload.schemaVersion ?? 1;
  if (schemaVersion !== 1) throw new ValidationError('payload.schemaVersion', 'is a version this code does not know');
  const { userId, version, status, fields } = payload;
  if (typeof userId !== 'string' || userId !== key)
    throw new ValidationError('payload.userId', 'must be the message key');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError('payload.version', 'must be a positive integer');
  }
  if (typeof status !== 'string' || !STATUSES.has(status))
    throw new ValidationError('payload.status', 'is not a status');
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string' && FIELDS.has(f))) {
    throw new ValidationError('payload.fields', 'must be a list of user field names');
  }
  return {
    id: String(id),
    seq: Number(seq),
    topic: topic as UserEventTopic,
    schemaVersion: 1,
    userId,
    version,
    status: status as UserStatus,
    fields: fields as UserField[],
    createdAt: String(createdAt),
  } as AnyUserEvent;
}

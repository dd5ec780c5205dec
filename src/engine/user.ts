import type { JsonObject } from '../store/json.js';

/** Where a user is in its lifecycle. An erased user is a tombstone: it keeps its id and accepts no command. */
export type UserStatus = 'active' | 'suspended' | 'erased';

/** An external identity (an OAuth/OIDC provider and the subject it knows the user by). */
export interface LinkedIdentity {
  provider: string;
  subject: string;
}

/** A user as the engine returns it. Every command returns the user as it stands after the command. */
export interface User {
  id: string;
  version: number;
  status: UserStatus;
  email: string | null;
  /**
   * When the user last proved they receive mail at `email` (ISO-8601 UTC), or
   * null: never, or not since the address changed. Set by `verifyEmail` (or at
   * registration); cleared by `unverifyEmail`, by a change to another address
   * and by erasure.
   */
  emailVerifiedAt: string | null;
  handle: string | null;
  displayName: string | null;
  locale: string | null;
  roles: string[];
  identities: LinkedIdentity[];
  attributes: JsonObject;
  createdAt: string;
  updatedAt: string;
}

/** Record kinds the engine writes. Index records are keyed by the unique value itself. */
export const USER_KIND = 'user';
export const EMAIL_INDEX_KIND = 'user-email';
export const HANDLE_INDEX_KIND = 'user-handle';
export const IDENTITY_INDEX_KIND = 'user-identity';

/** What a `user` record holds — the only place personal data lives: the user without its record identity, plus why it is suspended. */
export interface UserData extends Omit<User, 'id' | 'version'> {
  /** Why the user is suspended; null unless suspended. */
  suspendedReason: string | null;
}

/** An index record: the unique value is its id, the owner is here. */
export interface IndexData {
  userId: string;
}

export function identityIndexId(identity: LinkedIdentity): string {
  // Providers cannot contain ':', so the first colon splits provider from subject.
  return `${identity.provider}:${identity.subject}`;
}

/** The user a `user` record holds. */
export function userFromRecord(record: { id: string; version: number; data: unknown }): User {
  return toUser(record.id, record.version, record.data as UserData);
}

export function toUser(id: string, version: number, data: UserData): User {
  return {
    id,
    version,
    status: data.status,
    email: data.email,
    // Users written before the field existed have no key: never verified.
    emailVerifiedAt: data.emailVerifiedAt ?? null,
    handle: data.handle,
    displayName: data.displayName,
    locale: data.locale,
    roles: [...data.roles],
    identities: data.identities.map((i) => ({ ...i })),
    attributes: data.attributes,
    createdAt: data.createdAt,
    updatedAt: data.updatedAt,
  };
}

// The records the Auth.js adapter keeps beside the engine's, and their data.
// Nothing here holds a token in the clear: sessions and verification tokens
// are found by a SHA-256 of the secret, OAuth tokens are sealed when a key
// is given (secrets.ts).

import type { JsonObject } from '../store/json.js';

/** An OAuth/OIDC account's token set; id `provider:providerAccountId` (the engine's identity index id). */
export const ACCOUNT_KIND = 'authjs-account';
/** A database session; id = SHA-256 (hex) of the session token. */
export const SESSION_KIND = 'authjs-session';
/** The sessions of one user, so erasure finds them all; id = the user id. */
export const USER_SESSIONS_KIND = 'authjs-user-sessions';
/** A verification token (email sign-in); id = SHA-256 (hex) of identifier, a newline and the token Auth.js hashed. */
export const VERIFICATION_KIND = 'authjs-verification';

/** Every kind the adapter writes. */
export const AUTHJS_KINDS = [ACCOUNT_KIND, SESSION_KIND, USER_SESSIONS_KIND, VERIFICATION_KIND] as const;

export interface AccountData {
  userId: string;
  type: string;
  /** Every field of the Auth.js account but userId, provider, providerAccountId and type: sealed, or as given without a key. */
  tokens: JsonObject;
}

export interface SessionData {
  userId: string;
  /** ISO-8601 UTC. */
  expires: string;
}

export interface UserSessionsData {
  /** Hashes of the user's sessions, oldest first. */
  sessions: string[];
}

export interface VerificationData {
  /** ISO-8601 UTC. */
  expires: string;
}

/** The largest number of sessions one user keeps; a sign-in beyond it ends the oldest. */
export const MAX_SESSIONS_PER_USER = 200;

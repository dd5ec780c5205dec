import { types } from 'node:util';
import { isOnTheCalendar } from '../store/calendar.js';
import { ValidationError } from '../store/errors.js';
import {
  canonicalJsonObject,
  copyJsonObject,
  type JsonObject,
  safeKeyName,
  unstorableTextReason,
} from '../store/json.js';
import { assertId, MAX_ID_LENGTH } from '../store/record.js';
import { caseInsensitiveKey } from '../store/text-key.js';
import type { LinkedIdentity } from './user.js';

/** The engine's input limits (lengths, counts, sizes), for applications that validate forms before calling it. */
export const LIMITS = Object.freeze({
  emailLength: 254,
  emailLocalPartLength: 64,
  handleMin: 3,
  handleMax: 32,
  displayNameLength: 200,
  localeLength: 64,
  /** Attributes share the user record's 64 KiB with the other fields; this keeps every record within it. */
  attributesBytes: 32 * 1024,
  roles: 64,
  identities: 32,
  providerLength: 64,
  subjectLength: 190,
  reasonLength: 500,
  actorLength: 256,
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HANDLE = /^[a-z0-9_]+$/;
const ROLE = /^[a-z][a-z0-9_.:-]{0,63}$/;
const PROVIDER = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;
/**
 * Characters that show as nothing, or as something else, in an address:
 * default-ignorables (zero-width space and joiners, soft hyphen, variation
 * selectors, U+180E), other format characters (bidi controls), private use
 * and unassigned code points (whose case and normalization may change in a
 * later Unicode version).
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Co}\p{Cn}]/u;

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string')
    throw new ValidationError(field, `must be a string, got ${value === null ? 'null' : typeof value}`);
  const reason = unstorableTextReason(value);
  if (reason !== null) throw new ValidationError(field, reason);
  return value;
}

function plainText(value: unknown, field: string, max: number): string {
  const text = requireString(value, field);
  if (text.length === 0) throw new ValidationError(field, 'must not be empty');
  if (text.length > max) throw new ValidationError(field, `must be at most ${max} characters`);
  if (CONTROL.test(text)) throw new ValidationError(field, 'must not contain control characters or line breaks');
  return text;
}

export interface NormalizedEmail {
  /** What the user gave, trimmed: kept on the user record. */
  email: string;
  /** `caseInsensitiveKey` of it: the uniqueness index key, the same for every spelling of the address. */
  indexKey: string;
}

/** Email: trimmed, at most 254 characters, one `@`, a local part and a dotted domain. */
export function normalizeEmail(value: unknown, field = 'email'): NormalizedEmail {
  const email = requireString(value, field).trim();
  if (email.length === 0) throw new ValidationError(field, 'must not be empty');
  if (email.length > LIMITS.emailLength)
    throw new ValidationError(field, `must be at most ${LIMITS.emailLength} characters`);
  if (CONTROL.test(email) || /\s/u.test(email))
    throw new ValidationError(field, 'must not contain spaces or control characters');
  if (INVISIBLE.test(email)) {
    throw new ValidationError(field, 'must not contain invisible, format, private-use or unassigned characters');
  }
  const parts = email.split('@');
  if (parts.length !== 2) throw new ValidationError(field, 'must contain exactly one @');
  const [local = '', domain = ''] = parts;
  if (local.length === 0 || local.length > LIMITS.emailLocalPartLength) {
    throw new ValidationError(
      field,
      `needs a local part of 1 to ${LIMITS.emailLocalPartLength} characters before the @`,
    );
  }
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((label) => label.length > 63 || !DOMAIN_LABEL.test(label))) {
    throw new ValidationError(field, 'needs a domain like example.com after the @');
  }
  const indexKey = caseInsensitiveKey(email);
  if (indexKey.length > MAX_ID_LENGTH) {
    throw new ValidationError(
      field,
      `is too long once case-folded for comparison (more than ${MAX_ID_LENGTH} characters)`,
    );
  }
  return { email, indexKey };
}

/** The index key of an address already on a user record (validated when it was stored). */
export function emailIndexKey(email: string): string {
  return caseInsensitiveKey(email);
}

/** Handle: 3 to 32 of a-z, 0-9 and _, stored lower-case. */
export function normalizeHandle(value: unknown, field = 'handle'): string {
  const handle = requireString(value, field).toLowerCase();
  if (handle.length < LIMITS.handleMin || handle.length > LIMITS.handleMax || !HANDLE.test(handle)) {
    throw new ValidationError(field, `must be ${LIMITS.handleMin} to ${LIMITS.handleMax} of a-z, 0-9 and _`);
  }
  return handle;
}

/** Display name: kept exactly as given; 1 to 200 characters with no control characters. */
export function normalizeDisplayName(value: unknown, field = 'displayName'): string {
  return plainText(value, field, LIMITS.displayNameLength);
}

/** Locale: a BCP 47 tag, canonicalized by `Intl` (`en-us` becomes `en-US`). */
export function normalizeLocale(value: unknown, field = 'locale'): string {
  const tag = plainText(value, field, LIMITS.localeLength);
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (canonical === undefined) throw new RangeError('empty');
    return canonical;
  } catch {
    throw new ValidationError(field, 'is not a valid BCP 47 language tag');
  }
}

/** Attributes: a JSON object within the record limits; returned as a detached canonical copy. */
export function normalizeAttributes(value: unknown, field = 'attributes'): JsonObject {
  const text = canonicalJsonObject(value, field);
  if (new TextEncoder().encode(text).length > LIMITS.attributesBytes) {
    throw new ValidationError(field, `must be at most ${LIMITS.attributesBytes} bytes as JSON`);
  }
  // The user record nests attributes one level down, so they get one level less than a record.
  if (maxDepth(value) > 15) throw new ValidationError(field, 'is nested deeper than 15 levels');
  return copyJsonObject(text);
}

function maxDepth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, maxDepth(child));
  return deepest + 1;
}

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d)$/;

/**
 * A point in time given as ISO-8601 text with a time zone (`2026-01-02T03:04:05.678Z`,
 * `2026-01-02T04:04+01:00`); stored as ISO-8601 UTC with milliseconds. A `Date` is
 * not plain data: pass `date.toISOString()`.
 */
export function normalizeTimestamp(value: unknown, field: string): string {
  const text = requireString(value, field);
  const date = ISO_TIMESTAMP.test(text) && isOnTheCalendar(text) ? new Date(text) : null;
  const time = date?.getTime();
  if (date === null || time === undefined || Number.isNaN(time) || Math.abs(time) > 8.64e15) {
    throw new ValidationError(
      field,
      'must be an ISO-8601 date and time with a time zone, e.g. 2026-01-02T03:04:05.678Z',
    );
  }
  return date.toISOString();
}

export function normalizeRole(value: unknown, field = 'role'): string {
  const role = requireString(value, field);
  if (!ROLE.test(role)) throw new ValidationError(field, 'must match /^[a-z][a-z0-9_.:-]{0,63}$/');
  return role;
}

export function normalizeIdentity(value: unknown, field = 'identity'): LinkedIdentity {
  const input = readInput(value, field, ['provider', 'subject']);
  const provider = requireString(input.provider, `${field}.provider`);
  if (!PROVIDER.test(provider))
    throw new ValidationError(`${field}.provider`, 'must match /^[a-z0-9][a-z0-9_.-]{0,63}$/');
  const subject = plainText(input.subject, `${field}.subject`, LIMITS.subjectLength);
  return { provider, subject };
}

export function normalizeReason(value: unknown, field = 'reason'): string {
  return plainText(value, field, LIMITS.reasonLength);
}

export function normalizeActor(value: unknown): string {
  return plainText(value, 'actor', LIMITS.actorLength);
}

export function normalizeUserId(value: unknown, field = 'id'): string {
  assertId(value, field);
  return value;
}

export function normalizeExpectedVersion(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError('expectedVersion', 'must be a positive integer when given');
  }
  return value;
}

/**
 * Reads a caller's input object exactly once into plain data: it must be a
 * plain object (not a proxy, a class instance or an array), every own key
 * must be one of `allowed` (a typo is an error, never a silently ignored
 * field), and every value must be a plain data property (never a getter,
 * whose second read could differ from the first). Later code sees only the
 * snapshot.
 */
export function readInput(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'must be an object');
  }
  if (types.isProxy(value)) throw new ValidationError(field, 'must be a plain object, not a proxy');
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new ValidationError(field, 'must be a plain object');
  const out: Record<string, unknown> = {};
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') throw new ValidationError(field, 'must not have symbol keys');
    if (!allowed.includes(key)) {
      throw new ValidationError(
        `${field}.${safeKeyName(key)}`,
        `is not a known field (allowed: ${allowed.join(', ')})`,
      );
    }
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) {
      throw new ValidationError(`${field}.${key}`, 'must be a plain value, not a getter or setter');
    }
    out[key] = descriptor.value;
  }
  return out;
}

import { ValidationError } from './errors.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A record's data, an audit detail or an outbox payload, as canonical JSON, is at most this many UTF-8 bytes. */
export const MAX_JSON_BYTES = 64 * 1024;
/** Nesting depth limit; the top-level object is depth 1. */
export const MAX_JSON_DEPTH = 16;

/**
 * Strings a Postgres `text` or `jsonb` column cannot hold exactly: NUL is
 * refused by Postgres outright, and a lone UTF-16 surrogate has no UTF-8 form,
 * so a driver would silently turn it into U+FFFD. Both are rejected on every
 * store so the same data behaves the same everywhere.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this rejects.
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Returns a reason when `text` cannot be stored exactly by every store, otherwise null. */
export function unstorableTextReason(text: string): string | null {
  const match = UNSTORABLE_TEXT.exec(text);
  if (match === null) return null;
  return match[0] === '\u0000' ? 'contains a NUL character' : 'contains a lone UTF-16 surrogate';
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' ? ctor.name : 'object';
}

/**
 * Serializes `value` as canonical JSON: object keys sorted by UTF-16 code
 * units, no whitespace. Anything that plain JSON cannot represent exactly is
 * rejected with a `ValidationError` on `field` instead of being changed the
 * way `JSON.stringify` would (dropping undefined, turning NaN into null,
 * calling `toJSON`).
 *
 * Negative zero is written as `0`, as every JSON encoder does: JSON has no
 * negative zero.
 */
export function canonicalJson(value: unknown, field: string): string {
  const text = write(value, field, 1, new Set());
  if (text.length > MAX_JSON_BYTES || utf8Length(text) > MAX_JSON_BYTES) {
    throw new ValidationError(field, `is larger than ${MAX_JSON_BYTES} bytes as JSON`);
  }
  return text;
}

/** Like `canonicalJson`, but the value must be a JSON object. */
export function canonicalJsonObject(value: unknown, field: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be a JSON object, got ${Array.isArray(value) ? 'array' : describe(value)}`);
  }
  return canonicalJson(value, field);
}

function write(value: unknown, path: string, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case 'string': {
      const reason = unstorableTextReason(value);
      if (reason !== null) throw new ValidationError(path, reason);
      return JSON.stringify(value);
    }
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(path, `${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > MAX_JSON_DEPTH) {
        throw new ValidationError(path, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
      }
      if (seen.has(value)) throw new ValidationError(path, 'contains a cycle');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new ValidationError(`${path}[${i}]`, 'is a hole in a sparse array');
          parts.push(write(value[i], `${path}[${i}]`, depth + 1, seen));
        }
        out = `[${parts.join(',')}]`;
      } else {
        if (!isPlainObject(value)) {
          throw new ValidationError(path, `${describe(value)} is not a plain JSON object`);
        }
        if (Object.getOwnPropertySymbols(value).length > 0) {
          throw new ValidationError(path, 'has symbol keys, which JSON cannot hold');
        }
        const keys = Object.keys(value).sort();
        const parts: string[] = [];
        for (const key of keys) {
          const reason = unstorableTextReason(key);
          if (reason !== null) throw new ValidationError(path, `has a key that ${reason}`);
          const child = (value as Record<string, unknown>)[key];
          parts.push(`${JSON.stringify(key)}:${write(child, `${path}.${key}`, depth + 1, seen)}`);
        }
        out = `{${parts.join(',')}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new ValidationError(path, `${describe(value)} is not a JSON value`);
  }
}

/** UTF-8 byte length without allocating a buffer. Lone surrogates were already rejected. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Parses JSON read back from a store and returns it re-serialized canonically,
 * whatever key order the database kept (jsonb orders keys by length).
 */
export function parseJsonObject(source: unknown, field: string): JsonObject {
  let value: unknown = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source);
    } catch (cause) {
      throw new ValidationError(field, `is not valid JSON (${(cause as Error).message})`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'is not a JSON object');
  }
  return value as JsonObject;
}

/** A deep, detached copy of a JSON object via its canonical text (safe for `__proto__` keys). */
export function copyJsonObject(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

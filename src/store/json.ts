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

/** A cheap pre-check: only text containing NUL or a surrogate needs the exact (lookaround) test. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

/** Returns a reason when `text` cannot be stored exactly by every store, otherwise null. */
export function unstorableTextReason(text: string): string | null {
  if (!MAYBE_UNSTORABLE.test(text)) return null;
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
  // One walk state reused by every call; a call made from inside another (a getter on the
  // value calling back in) gets its own.
  const walk: Walk = shared.busy ? { field, trail: [], ancestors: [] } : shared.walk;
  const owner = !shared.busy;
  shared.busy = true;
  walk.field = field;
  walk.trail.length = 0;
  walk.ancestors.length = 0;
  try {
    return serialize(value, walk, field);
  } finally {
    if (owner) shared.busy = false;
  }
}

function serialize(value: unknown, walk: Walk, field: string): string {
  // Most values arrive with their keys already in order (anything parsed from canonical text, and
  // the engine's own records): validate without building strings, then let the native
  // JSON.stringify write them, which is then canonical. Otherwise write with sorting.
  const text = validateSorted(value, 1, walk) ? JSON.stringify(value) : write(value, 1, walk);
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short text needs no byte count.
  if (text.length > MAX_JSON_BYTES || (text.length * 3 > MAX_JSON_BYTES && utf8Length(text) > MAX_JSON_BYTES)) {
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

/**
 * Where the writer is: the path is kept as a stack and only turned into text
 * when an error needs it, because building a path string for every value
 * would dominate the cost of serializing.
 */
interface Walk {
  field: string;
  trail: (string | number)[];
  ancestors: object[];
}

const shared: { walk: Walk; busy: boolean } = { walk: { field: '', trail: [], ancestors: [] }, busy: false };

function fail(walk: Walk, message: string): never {
  let path = walk.field;
  for (const step of walk.trail) path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  throw new ValidationError(path, message);
}

/**
 * Validates `value` exactly as `write` does (same errors) without producing
 * text. Returns true when every object's own key order is already the sorted
 * order, so that `JSON.stringify(value)` is the canonical text; returns false
 * at the first key out of order (jsonb, for one, orders keys by length), and
 * `write` then validates and sorts in one pass.
 */
function validateSorted(value: unknown, depth: number, walk: Walk): boolean {
  switch (typeof value) {
    case 'string':
      if (MAYBE_UNSTORABLE.test(value) && UNSTORABLE_TEXT.test(value)) {
        fail(walk, unstorableTextReason(value) ?? 'cannot be stored');
      }
      return true;
    case 'number':
      if (!Number.isFinite(value)) fail(walk, `${value} is not a JSON number`);
      return true;
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (walk.ancestors.includes(value)) fail(walk, 'contains a cycle');
      if (depth > MAX_JSON_DEPTH) fail(walk, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
      walk.ancestors.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          walk.trail.push(i);
          if (!(i in value)) fail(walk, 'is a hole in a sparse array');
          if (!validateSorted(value[i], depth + 1, walk)) return false;
          walk.trail.pop();
        }
      } else {
        if (!isPlainObject(value)) fail(walk, `${describe(value)} is not a plain JSON object`);
        if (Object.getOwnPropertySymbols(value).length > 0) fail(walk, 'has symbol keys, which JSON cannot hold');
        // An own toJSON function would make JSON.stringify call it; it is a function, so it is
        // rejected below anyway, but only when reached: check it first.
        const keys = Object.keys(value);
        let previous: string | undefined;
        for (const key of keys) {
          if (MAYBE_UNSTORABLE.test(key) && UNSTORABLE_TEXT.test(key)) {
            fail(walk, `has a key that ${unstorableTextReason(key)}`);
          }
          if (previous !== undefined && previous > key) {
            walk.ancestors.length = 0;
            walk.trail.length = 0;
            return false;
          }
          previous = key;
          walk.trail.push(key);
          if (!validateSorted((value as Record<string, unknown>)[key], depth + 1, walk)) return false;
          walk.trail.pop();
        }
      }
      walk.ancestors.pop();
      return true;
    }
    default:
      return fail(walk, `${describe(value)} is not a JSON value`);
  }
}

function write(value: unknown, depth: number, walk: Walk): string {
  switch (typeof value) {
    case 'string': {
      if (MAYBE_UNSTORABLE.test(value) && UNSTORABLE_TEXT.test(value)) {
        fail(walk, unstorableTextReason(value) ?? 'cannot be stored');
      }
      return JSON.stringify(value);
    }
    case 'number':
      if (!Number.isFinite(value)) fail(walk, `${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (walk.ancestors.includes(value)) fail(walk, 'contains a cycle');
      if (depth > MAX_JSON_DEPTH) fail(walk, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
      walk.ancestors.push(value);
      let out: string;
      if (Array.isArray(value)) {
        out = '[';
        for (let i = 0; i < value.length; i++) {
          walk.trail.push(i);
          if (!(i in value)) fail(walk, 'is a hole in a sparse array');
          out += i === 0 ? write(value[i], depth + 1, walk) : `,${write(value[i], depth + 1, walk)}`;
          walk.trail.pop();
        }
        out += ']';
      } else {
        if (!isPlainObject(value)) fail(walk, `${describe(value)} is not a plain JSON object`);
        if (Object.getOwnPropertySymbols(value).length > 0) fail(walk, 'has symbol keys, which JSON cannot hold');
        const keys = Object.keys(value).sort();
        out = '{';
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i] as string;
          if (MAYBE_UNSTORABLE.test(key) && UNSTORABLE_TEXT.test(key)) {
            fail(walk, `has a key that ${unstorableTextReason(key)}`);
          }
          walk.trail.push(key);
          const child = write((value as Record<string, unknown>)[key], depth + 1, walk);
          walk.trail.pop();
          out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${child}`;
        }
        out += '}';
      }
      walk.ancestors.pop();
      return out;
    }
    default:
      return fail(walk, `${describe(value)} is not a JSON value`);
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

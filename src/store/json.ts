import { types } from 'node:util';
import { ValidationError } from './errors.js';

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object: what records hold as `data`, and what attributes, audit details and payloads are. */
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

/**
 * Serializes `value` as canonical JSON: object keys sorted by UTF-16 code
 * units, no whitespace. Anything that plain JSON cannot represent exactly is
 * rejected with a `ValidationError` on `field` instead of being changed the
 * way `JSON.stringify` would (dropping undefined or an array's extra
 * properties, turning NaN into null, calling `toJSON`). Values are read as
 * data only: a getter or setter, a proxy or a class instance is refused, so
 * what is stored is what was read, once.
 *
 * Negative zero is written as `0`, as every JSON encoder does: JSON has no
 * negative zero.
 */
export function canonicalJson(value: unknown, field: string): string {
  const walk: Walk = { field, trail: [], ancestors: [], sorted: true };
  check(value, 1, walk);
  // Most values arrive with their keys already in order (anything parsed from canonical text, and
  // the engine's own records): the native JSON.stringify then writes the canonical text, reading
  // only the data properties `check` has just seen. Otherwise write with sorting.
  const text = walk.sorted && !prototypesHaveToJson() ? JSON.stringify(value) : writeSorted(value);
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
 * A key as it may appear in an error's field path: an identifier-like name
 * (what attribute keys usually are) as it is, anything else replaced, because
 * a key is caller data and errors carry no caller values.
 */
export function safeKeyName(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]{0,39}$/.test(key) ? key : '[key]';
}

/** Where the checker is, kept as a stack and only turned into text when an error needs it. */
interface Walk {
  field: string;
  trail: (string | number)[];
  ancestors: object[];
  /** False once an object with its keys out of sorted order was seen. */
  sorted: boolean;
}

function fail(walk: Walk, message: string): never {
  let path = walk.field;
  for (const step of walk.trail) path += typeof step === 'number' ? `[${step}]` : `.${safeKeyName(step)}`;
  throw new ValidationError(path, message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' ? ctor.name : 'object';
}

/** Reads one own property as data: a getter or setter is refused rather than run. */
function dataProperty(walk: Walk, owner: object, key: string | number): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(owner, key);
  if (descriptor === undefined) return fail(walk, 'is a hole in a sparse array');
  if (!('value' in descriptor)) return fail(walk, 'is a getter or setter, not plain data');
  return descriptor.value;
}

/** Every rule, in one pass over the value; notes whether every object's keys are already sorted. */
function check(value: unknown, depth: number, walk: Walk): void {
  switch (typeof value) {
    case 'string':
      if (MAYBE_UNSTORABLE.test(value) && UNSTORABLE_TEXT.test(value)) {
        fail(walk, unstorableTextReason(value) ?? 'cannot be stored');
      }
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(walk, `${value} is not a JSON number`);
      return;
    case 'boolean':
      return;
    case 'object': {
      if (value === null) return;
      if (types.isProxy(value)) fail(walk, 'is a proxy, not plain data');
      if (walk.ancestors.includes(value)) fail(walk, 'contains a cycle');
      if (depth > MAX_JSON_DEPTH) fail(walk, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
      walk.ancestors.push(value);
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) fail(walk, `${describe(value)} is not a plain JSON array`);
        if (Object.getOwnPropertySymbols(value).length > 0) fail(walk, 'has symbol keys, which JSON cannot hold');
        for (let i = 0; i < value.length; i++) {
          walk.trail.push(i);
          check(dataProperty(walk, value, i), depth + 1, walk);
          walk.trail.pop();
        }
        // Holes were refused above, so any other enumerable key is a property JSON would drop.
        if (Object.keys(value).length !== value.length) fail(walk, 'has a property that is not an element');
      } else {
        if (proto !== Object.prototype && proto !== null) fail(walk, `${describe(value)} is not a plain JSON object`);
        if (Object.getOwnPropertySymbols(value).length > 0) fail(walk, 'has symbol keys, which JSON cannot hold');
        let previous: string | undefined;
        for (const key of Object.keys(value)) {
          if (MAYBE_UNSTORABLE.test(key) && UNSTORABLE_TEXT.test(key)) {
            fail(walk, `has a key that ${unstorableTextReason(key)}`);
          }
          if (previous !== undefined && previous > key) walk.sorted = false;
          previous = key;
          walk.trail.push(key);
          check(dataProperty(walk, value, key), depth + 1, walk);
          walk.trail.pop();
        }
      }
      walk.ancestors.pop();
      return;
    }
    default:
      fail(walk, `${describe(value)} is not a JSON value`);
  }
}

/** Writes a value `check` accepted, with every object's keys sorted. */
function writeSorted(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(writeSorted).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${writeSorted(record[key])}`;
  }
  return `${out}}`;
}

/** A `toJSON` on a shared prototype (pollution) would make JSON.stringify write something else. */
function prototypesHaveToJson(): boolean {
  return 'toJSON' in Object.prototype || 'toJSON' in Array.prototype;
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
 * Parses a JSON object read back from a store (text, or an object a driver
 * already parsed). Key order is whatever the database kept; readers that need
 * canonical text re-serialize it.
 */
export function parseJsonObject(source: unknown, field: string): JsonObject {
  let value: unknown = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source);
    } catch {
      // The parser's message quotes the text, which is stored data: leave it out.
      throw new ValidationError(field, 'is not valid JSON');
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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, StoreRecord } from '../src/index.js';
import { ValidationError } from '../src/index.js';
import {
  canonicalJson,
  canonicalJsonObject,
  deserializeRecord,
  MAX_JSON_DEPTH,
  normalizeInteger,
  normalizeTimestamp,
  recordKey,
  serializeRecord,
} from '../src/store/index.js';

/** JSON text every store can hold exactly: no NUL, no lone surrogates. */
const storableString = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\u0000'));
const storableJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    storableString,
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(storableString, tie('value'), { maxKeys: 5 }),
}));
const jsonObject = storableJson.object as fc.Arbitrary<JsonObject>;

function shuffledCopy(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledCopy(v, random));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(() => random() - 0.5);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries)
      Object.defineProperty(out, k, {
        value: shuffledCopy(v, random),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

const record = (data: JsonObject): StoreRecord => ({
  kind: 'note',
  id: 'n1',
  key: 'note:n1',
  version: 1,
  data,
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:05.678Z',
});

describe('records and serialization', () => {
  it('recordKey is kind:id and validates both', () => {
    expect(recordKey('user-email', 'a@b')).toBe('user-email:a@b');
    expect(() => recordKey('User', 'x')).toThrow(ValidationError);
    expect(() => recordKey('user', '')).toThrow(ValidationError);
    expect(() => recordKey('user', 'a\u0007')).toThrow(ValidationError);
  });

  it('any storable JSON object round-trips exactly through serialize/deserialize', () => {
    fc.assert(
      fc.property(jsonObject, (data) => {
        const row = serializeRecord(record(data));
        expect(deserializeRecord(row).data).toStrictEqual(JSON.parse(JSON.stringify(data)));
        expect(deserializeRecord(row)).toStrictEqual({ ...record(JSON.parse(row.data)), data: JSON.parse(row.data) });
      }),
      { numRuns: 300 },
    );
  });

  it('the same object in any key order serializes to the same canonical text', () => {
    fc.assert(
      fc.property(jsonObject, fc.integer(), (data, seed) => {
        let s = seed;
        const random = () => {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          return s / 0x7fffffff;
        };
        expect(canonicalJson(shuffledCopy(data, random), 'data')).toBe(canonicalJson(data, 'data'));
      }),
      { numRuns: 300 },
    );
  });

  it('canonical JSON sorts keys and has no whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x y' }, 'data')).toBe('{"a":"x y","b":[1,{"c":2,"d":1}]}');
    expect(canonicalJson({ __proto__: null, z: 1 } as unknown, 'data')).toBe('{"z":1}');
    const own = JSON.parse('{"__proto__":{"polluted":true}}');
    expect(canonicalJson(own, 'data')).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('values that are not plain JSON are rejected with ValidationError, never changed', () => {
    const nonJson = fc.oneof(
      fc.constant(undefined),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.constant(Number.NEGATIVE_INFINITY),
      fc.bigInt(),
      fc.date(),
      fc.constant(new Map()),
      fc.constant(new Set([1])),
      fc.constant(() => 1),
      fc.constant(Symbol('x')),
      fc.constant(
        new (class Point {
          x = 1;
        })(),
      ),
      fc.constant('\u0000'),
      fc.constant('a\uD800b'),
      fc.constant('\uDC00'),
    );
    fc.assert(
      fc.property(jsonObject, storableString, nonJson, (data, key, bad) => {
        const poisoned = { ...data, [key]: bad };
        expect(() => canonicalJsonObject(poisoned, 'data')).toThrow(ValidationError);
        expect(() => canonicalJsonObject({ list: [bad] }, 'data')).toThrow(ValidationError);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects cycles, depth over 16, size over 64 KiB and non-objects at the top', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.me = { back: cyclic };
    expect(() => canonicalJson(cyclic, 'data')).toThrow(/cycle/);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(() => canonicalJson(deep, 'data')).not.toThrow();
    expect(() => canonicalJson([deep], 'data')).toThrow(/deeper than 16/);
    expect(() => canonicalJson({ s: 'x'.repeat(64 * 1024) }, 'data')).toThrow(/larger than/);
    expect(() => canonicalJson({ s: '€'.repeat(22 * 1024) }, 'data')).toThrow(/larger than/);
    expect(() => canonicalJsonObject([1], 'data')).toThrow(/JSON object/);
    const err = (() => {
      try {
        canonicalJsonObject({ a: { b: undefined } }, 'attributes');
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err?.field).toBe('attributes.a.b');
    expect(err?.code).toBe('invalid_input');
  });

  it('values are read as data, once: getters, setters, proxies and arrays with extra properties are refused', () => {
    let reads = 0;
    const flipping = {
      get value() {
        reads += 1;
        return reads === 1 ? 'ok' : 5n;
      },
    };
    expect(() => canonicalJson(flipping, 'data')).toThrow(
      expect.objectContaining({ code: 'invalid_input', field: 'data.value' }),
    );
    expect(reads).toBe(0);
    const vanishing = {
      get gone() {
        return undefined;
      },
    };
    expect(() => canonicalJson({ nested: vanishing }, 'data')).toThrow(
      expect.objectContaining({ field: 'data.nested.gone' }),
    );
    const setterOnly = Object.defineProperty({}, 'x', { set() {}, enumerable: true });
    expect(() => canonicalJson(setterOnly, 'data')).toThrow(expect.objectContaining({ field: 'data.x' }));
    const indexGetter = Object.defineProperty([1, 2], 1, { get: () => 3, enumerable: true });
    expect(() => canonicalJson({ list: indexGetter }, 'data')).toThrow(
      expect.objectContaining({ field: 'data.list[1]' }),
    );
    const extra = Object.assign([1, 2], { note: 'dropped by JSON.stringify' });
    expect(() => canonicalJson({ list: extra }, 'data')).toThrow(
      expect.objectContaining({ field: 'data.list', message: expect.stringMatching(/not an element/) }),
    );
    expect(() => canonicalJson({ p: new Proxy({ a: 1 }, {}) }, 'data')).toThrow(
      expect.objectContaining({ field: 'data.p' }),
    );
    expect(() => canonicalJson(new Proxy([1], {}), 'data')).toThrow(expect.objectContaining({ field: 'data' }));
  });

  it('error paths name identifier-like keys only: other keys are caller data and are replaced', () => {
    expect(() => canonicalJson({ plan: { 'ada@example.com': Number.NaN } }, 'attributes')).toThrow(
      expect.objectContaining({ field: 'attributes.plan.[key]' }),
    );
  });

  it('a shared array or object seen twice (not a cycle) is fine', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared }, 'data')).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('rows normalize alike from every driver: Date or text timestamps, string/number/bigint integers, JSON text or objects', () => {
    const iso = '2026-01-02T03:04:05.678Z';
    for (const ts of [new Date(iso), iso, '2026-01-02 03:04:05.678+00', '2026-01-02 04:04:05.678+01:00']) {
      expect(normalizeTimestamp(ts, 'at')).toBe(iso);
    }
    expect(normalizeTimestamp('2026-01-02 03:04:05.6781+00', 'at')).toBe(iso);
    for (const n of [42, '42', 42n]) expect(normalizeInteger(n, 'seq')).toBe(42);
    expect(() => normalizeInteger('9007199254740993', 'seq')).toThrow(ValidationError);
    expect(() => normalizeInteger('4.2', 'seq')).toThrow(ValidationError);
    expect(() => normalizeTimestamp('yesterday', 'at')).toThrow(ValidationError);
    const base = { kind: 'note', id: 'n1', version: '3', created_at: new Date(iso), updated_at: iso };
    const fromText = deserializeRecord({ ...base, data: '{"b":1,"a":[true]}' });
    const fromObject = deserializeRecord({ ...base, data: { a: [true], b: 1 } });
    expect(fromText).toStrictEqual(fromObject);
    expect(fromText).toMatchObject({ key: 'note:n1', version: 3, createdAt: iso, updatedAt: iso });
  });

  it('a malformed row from a store is a store fault (store_unavailable), not invalid input', () => {
    expect(() =>
      deserializeRecord({ kind: 'note', id: 'n', version: 1, data: '[1]', created_at: 'x', updated_at: 'x' }),
    ).toThrow(expect.objectContaining({ code: 'store_unavailable' }));
  });
});

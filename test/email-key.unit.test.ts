// One key per address: every spelling of an email address — case, case folding,
// width, normalization — gets the same index key, and the key is stable.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../src/engine/validation.js';
import { caseInsensitiveKey, legacyEmailKey } from '../src/store/text-key.js';

const key = (email: string) => normalizeEmail(email).indexKey;

describe('the email index key', () => {
  it.each([
    ['W\u030a@example.com', 'ẘ@example.com'],
    ['J\u030cim@example.com', 'ǰim@example.com'],
    ['straße@example.com', 'STRASSE@example.com'],
    ['STRAẞE@example.com', 'strasse@example.com'],
    ['ΑΣ@example.com', 'ασ@example.com'],
    ['ας@example.com', 'ΑΣ@example.com'],
    ['ﬀ@example.com', 'FF@example.com'],
    ['ａｄａ@example.com', 'ada@example.com'],
    ['ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ', 'ada@example.com'],
    ['ｶﾞ@example.jp', 'ガ@example.jp'],
    ['Ada@Example.COM', 'ada@example.com'],
  ])('%s and %s are one address', (a, b) => {
    expect(key(a)).toBe(key(b));
  });

  it.each([
    ['zero-width joiner', 'ad\u200Da@example.com'],
    ['zero-width space', 'ad\u200Ba@example.com'],
    ['soft hyphen', 'ad\u00ADa@example.com'],
    ['Mongolian vowel separator', 'ad\u180Ea@example.com'],
    ['right-to-left override', 'ad\u202Ea@example.com'],
    ['variation selector', 'ada\uFE0F@example.com'],
    ['private use', 'ada\uE000@example.com'],
    ['unassigned', 'ada\u0378@example.com'],
  ])('an address with a %s is refused on the email field', (_name, email) => {
    expect(() => normalizeEmail(email)).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'email' }));
  });

  it('homoglyphs across scripts stay distinct (a documented limit)', () => {
    expect(key('ada@example.com')).not.toBe(key('\u0430da@example.com'));
  });

  it('a valid address whose key would outgrow a record id is refused on the email field, not the id', () => {
    const local = 'İ'.repeat(64);
    const domain = `${'İ'.repeat(63)}.${'İ'.repeat(63)}.${'i'.repeat(61)}`;
    const email = `${local}@${domain}`;
    expect(email.length).toBe(254);
    expect(() => normalizeEmail(email)).toThrow(
      expect.objectContaining({ field: 'email', message: expect.stringMatching(/case-folded/) }),
    );
  });

  it('is stable: the key of a key is itself, over generated Unicode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), (text) => {
        const k = caseInsensitiveKey(text);
        expect(caseInsensitiveKey(k)).toBe(k);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const k = caseInsensitiveKey(text);
        expect(caseInsensitiveKey(k)).toBe(k);
      }),
      { numRuns: 5000 },
    );
  });

  it('is blind to case and width, over generated Unicode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        const k = caseInsensitiveKey(text);
        expect(caseInsensitiveKey(text.toUpperCase())).toBe(k);
        expect(caseInsensitiveKey(text.toLowerCase())).toBe(k);
        expect(caseInsensitiveKey(text.normalize('NFD'))).toBe(k);
      }),
      { numRuns: 5000 },
    );
  });

  it('the key of a previous version key is the key of the address (what the re-keying migration relies on)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), (text) => {
        expect(caseInsensitiveKey(legacyEmailKey(text))).toBe(caseInsensitiveKey(text));
      }),
      { numRuns: 5000 },
    );
  });
});

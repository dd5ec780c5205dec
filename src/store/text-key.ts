/**
 * The one key under which every spelling of a case-insensitive text is
 * stored — the engine's email index ids are made with it. Close to RFC 8265's
 * case-mapped profile, with full case folding:
 *
 * 1. width mapping: fullwidth and halfwidth forms (U+3000, U+FF00–U+FFEF)
 *    become their ordinary characters (`ａｄａ` → `ada`);
 * 2. full case folding, approximated as lower(upper(lower(x))) with the
 *    Unicode default (not locale) mappings, so `ß`, `ẞ` and `SS` all become
 *    `ss`, `ﬀ` and `FF` become `ff`, `Σ`, `σ` and `ς` meet;
 * 3. Unicode NFC, so composed and decomposed spellings meet (`ǰ` and `J̌`).
 *
 * The three steps are repeated until the text stops changing (twice at most
 * in practice; the cap only bounds the loop), so the key of a key is itself:
 * a property test checks both over generated Unicode. Homoglyphs across
 * scripts (Latin `a`, Cyrillic `а`) stay distinct keys; invisible characters
 * are not removed here — the engine refuses them in the input.
 *
 * The algorithm is part of the stored data: changing it is a schema version
 * that re-keys existing records (see SCHEMA_VERSIONS).
 *
 * @example caseInsensitiveKey('Straße@Example.COM') // 'strasse@example.com'
 */
export function caseInsensitiveKey(text: string): string {
  let key = keyStep(text);
  for (let i = 0; i < 4; i++) {
    const next = keyStep(key);
    if (next === key) return key;
    key = next;
  }
  return key;
}

const WIDE_OR_NARROW = /[\u3000\uFF00-\uFFEF]/gu;

function keyStep(text: string): string {
  const narrow = WIDE_OR_NARROW.test(text) ? text.replace(WIDE_OR_NARROW, (char) => char.normalize('NFKC')) : text;
  WIDE_OR_NARROW.lastIndex = 0;
  return narrow.toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

/**
 * The email index key of schema versions 1–3 (NFC, then lower case), which
 * left some spellings of one address under different keys. Kept only so that
 * the re-keying migration and its tests can name what they convert from.
 */
export function legacyEmailKey(email: string): string {
  return email.normalize('NFC').toLowerCase();
}

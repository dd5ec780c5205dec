import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { UserEngineError, ValidationError } from '../store/errors.js';
import type { JsonObject } from '../store/json.js';

/**
 * SHA-256 of a secret the adapter must find again but never keep: a session
 * token (the session record's id), or a verification token with its
 * identifier. The inputs are long random values Auth.js generates, so a fast
 * hash is enough (no salt or stretching: nothing to guess), and a database
 * reader learns nothing that signs anyone in.
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A 32-byte AES-256-GCM key, as bytes or as base64/base64url text. */
export type TokenKey = Uint8Array | string;

/** What a sealed token set looks like in an account record: no token in the clear. */
export interface SealedTokens extends JsonObject {
  /** Format version. */
  v: 1;
  alg: 'A256GCM';
  /** The first 16 hex digits of SHA-256 of the key: which key sealed it (never the key). */
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

interface Key {
  id: string;
  bytes: Buffer;
}

function readKey(key: TokenKey, field: string): Key {
  let bytes: Buffer;
  if (typeof key === 'string')
    bytes = Buffer.from(key, key.includes('-') || key.includes('_') ? 'base64url' : 'base64');
  else if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else throw new ValidationError(field, 'must be 32 bytes, or their base64 text');
  if (bytes.length !== 32) throw new ValidationError(field, 'must be 32 bytes (AES-256), or their base64 text');
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}

/**
 * Seals and opens an account's OAuth tokens with AES-256-GCM: a fresh
 * 96-bit IV per seal, the account record's id as additional authenticated
 * data (a sealed blob copied onto another account does not open), and a key
 * id so that older keys can still open what they sealed while new seals use
 * the current key. Without a key, tokens are kept as plain JSON.
 */
export class TokenSealer {
  readonly #current: Key | undefined;
  readonly #keys = new Map<string, Key>();

  constructor(current: TokenKey | undefined, previous: readonly TokenKey[] = []) {
    if (current !== undefined) {
      this.#current = readKey(current, 'tokenEncryptionKey');
      this.#keys.set(this.#current.id, this.#current);
    }
    for (const [i, key] of previous.entries()) {
      const read = readKey(key, `previousTokenEncryptionKeys[${i}]`);
      if (!this.#keys.has(read.id)) this.#keys.set(read.id, read);
    }
  }

  /** Whether new token sets are sealed (a current key was given). */
  get sealing(): boolean {
    return this.#current !== undefined;
  }

  /** The tokens as the record keeps them: sealed with the current key, or as they are without one. */
  seal(tokens: JsonObject, recordId: string): JsonObject {
    const key = this.#current;
    if (key === undefined) return tokens;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
    cipher.setAAD(aad(recordId));
    const ct = Buffer.concat([cipher.update(JSON.stringify(tokens), 'utf8'), cipher.final()]);
    return {
      v: 1,
      alg: 'A256GCM',
      kid: key.id,
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
      ct: ct.toString('base64url'),
    } satisfies SealedTokens;
  }

  /** The tokens a record keeps, opened; a sealed set needs the key that sealed it. */
  open(stored: JsonObject, recordId: string): JsonObject {
    if (!isSealed(stored)) return stored;
    const key = this.#keys.get(stored.kid);
    if (key === undefined) {
      throw new UserEngineError(
        'invalid_state',
        `an account's tokens are sealed with key ${stored.kid}, which this adapter was not given (tokenEncryptionKey or previousTokenEncryptionKeys)`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(stored.iv, 'base64url'));
      decipher.setAAD(aad(recordId));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64url'));
      const text = Buffer.concat([decipher.update(Buffer.from(stored.ct, 'base64url')), decipher.final()]);
      return JSON.parse(text.toString('utf8')) as JsonObject;
    } catch {
      // No cause: it would say nothing useful, and the check failing is the whole story.
      throw new UserEngineError(
        'invalid_state',
        `an account's sealed tokens failed authentication under key ${stored.kid}: altered, or moved from another account`,
      );
    }
  }
}

function aad(recordId: string): Buffer {
  return Buffer.from(`user-engine/authjs account ${recordId}`, 'utf8');
}

export function isSealed(value: JsonObject): value is SealedTokens {
  return (
    value.v === 1 &&
    value.alg === 'A256GCM' &&
    typeof value.kid === 'string' &&
    typeof value.iv === 'string' &&
    typeof value.tag === 'string' &&
    typeof value.ct === 'string'
  );
}

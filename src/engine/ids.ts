import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so
 * ids sort roughly by creation time and index well. The random part comes
 * from `randomUUID()` (a v4), whose generator draws from a pooled buffer:
 * much cheaper than a fresh `randomFillSync` per id.
 */
export function uuidv7(now: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx, Y in 8..b: the variant is already right
  const time = now.toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

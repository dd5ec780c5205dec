import { compareCodePoints } from './queries.js';

const CHUNK = 512;

/**
 * The ids of one kind of record in code point order, kept as a list of
 * sorted chunks of at most 512: adding or removing an id costs a binary
 * search and a splice within one chunk, and a keyset page (`after`, `limit`)
 * costs a binary search and `limit` steps — never a sort of every id. Ids
 * that arrive in order (UUIDv7 user ids) are appended.
 */
export class SortedIds {
  readonly #chunks: string[][] = [];

  get size(): number {
    let n = 0;
    for (const chunk of this.#chunks) n += chunk.length;
    return n;
  }

  add(id: string): void {
    const chunks = this.#chunks;
    const last = chunks[chunks.length - 1];
    if (last === undefined) {
      chunks.push([id]);
      return;
    }
    if (compareCodePoints(id, last[last.length - 1] as string) > 0) {
      if (last.length < CHUNK) last.push(id);
      else chunks.push([id]);
      return;
    }
    const at = this.#chunkFor(id);
    const chunk = chunks[at] as string[];
    chunk.splice(lowerBound(chunk, id), 0, id);
    if (chunk.length > CHUNK) chunks.splice(at + 1, 0, chunk.splice(CHUNK >> 1));
  }

  delete(id: string): void {
    const at = this.#chunkFor(id);
    const chunk = this.#chunks[at];
    if (chunk === undefined) return;
    const i = lowerBound(chunk, id);
    if (chunk[i] !== id) return;
    chunk.splice(i, 1);
    if (chunk.length === 0) this.#chunks.splice(at, 1);
  }

  /** Up to `limit` ids after `after` (all from the start when null), ascending. */
  after(after: string | null, limit: number): string[] {
    const out: string[] = [];
    let at = after === null ? 0 : this.#chunkFor(after);
    let i = after === null ? 0 : upperBound(this.#chunks[at] ?? [], after);
    for (; at < this.#chunks.length && out.length < limit; at++, i = 0) {
      const chunk = this.#chunks[at] as string[];
      for (; i < chunk.length && out.length < limit; i++) out.push(chunk[i] as string);
    }
    return out;
  }

  /** The first chunk whose last id is not below `id` (the last chunk when every chunk is below). */
  #chunkFor(id: string): number {
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.#chunks[mid] as string[];
      if (compareCodePoints(chunk[chunk.length - 1] as string, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo);
  }
}

function lowerBound(sorted: readonly string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(sorted[mid] as string, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: readonly string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(sorted[mid] as string, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

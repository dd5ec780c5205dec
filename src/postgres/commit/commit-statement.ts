import { compareCodePoints } from '../../store/queries.js';
import type { PendingWrite } from '../../store/unit-of-work.js';

/**
 * One commit as it goes on the wire: a statement text, its bind parameters,
 * and the record key behind each position the statement can report, so a
 * conflict at position n names `keys[n - 1]`.
 */
export interface CommitStatement {
  text: string;
  params: unknown[];
  keys: string[];
}

/**
 * The order in which every commit path takes its row locks: by kind, then id,
 * in code point order (which is also the order of the "C" collation the
 * function path sorts by). One fixed order for all commits means two commits
 * touching the same records queue instead of deadlocking.
 */
export function lockOrder(a: { kind: string; id: string }, b: { kind: string; id: string }): number {
  return compareCodePoints(a.kind, b.kind) || compareCodePoints(a.id, b.id);
}

/** What a commit does to one record: insert (expects no row), update or delete (expect a version). */
export type WriteOp = 'i' | 'u' | 'd';

export function writeOp(write: PendingWrite): WriteOp {
  if (write.data === null) return 'd';
  return write.expectedVersion === 0 ? 'i' : 'u';
}

/** A decoder's complaint about parameters the store would never send, shaped like the server's. */
export class CommitDecodeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'CommitDecodeError';
  }
}

export function decodeText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new CommitDecodeError('22P02', `${what}: expected text`);
  return value;
}

export function decodeInteger(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new CommitDecodeError('22P02', `${what}: expected an integer`);
  return n;
}

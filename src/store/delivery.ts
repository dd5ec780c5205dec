import { isOnTheCalendar } from './calendar.js';
import { ValidationError } from './errors.js';
import { MAX_PAGE_LIMIT } from './queries.js';
import type { OutboxMessage } from './store.js';

/**
 * How relays take messages out of a store's outbox and onto a broker
 * (docs/outbox.md has the model and its argument). Every committed message
 * starts `pending`. A relay `claim`s messages under a lease, as runs: for a
 * key whose oldest undelivered message is due, that message and the key's
 * later ones, in seq order — while one relay holds a key's run no other
 * relay gets any message of that key, so one key's messages go out in commit
 * order however many relays run. It publishes a run in order and stops at
 * the first failure. Then it `acknowledge`s the ones the
 * broker accepted, or reports a `fail`ure (retried after a backoff, `dead`
 * after too many attempts), or `release`s what it did not try. A claim whose
 * lease ran out (its relay died) is claimable again. An operator can
 * `inspect` messages by state, `replay` dead or delivered ones, and `prune`
 * delivered ones past a retention.
 *
 * @example
 * const [message] = await store.delivery.claim({ relay: 'relay-1', limit: 1, leaseMs: 30_000 });
 * if (message) await store.delivery.acknowledge([message]);
 */
export interface OutboxDelivery {
  /**
   * Claims up to `limit` messages for `leaseMs`, by seq: for each key whose
   * oldest undelivered message is due (pending past its backoff, or claimed
   * with its lease run out), that message and the key's later undelivered
   * ones. Publish one key's messages in this order; after one fails, `release`
   * the rest of its run.
   */
  claim(request: ClaimRequest): Promise<ClaimedMessage[]>;
  /** Marks claimed messages delivered. A claim that is no longer held (its lease ran out and it was claimed again) is skipped. Returns how many were marked. */
  acknowledge(claims: readonly ClaimToken[]): Promise<number>;
  /** Reports a failed delivery: the message is retried after `retryInMs`, or is dead once it has had `maxAttempts`. */
  fail(claim: ClaimToken, failure: DeliveryFailure): Promise<'retry' | 'dead' | 'not_held'>;
  /** Gives claims back without counting an attempt (a relay stopping). Returns how many were released. */
  release(claims: readonly ClaimToken[]): Promise<number>;
  /** Messages in one state, by seq ascending, after `afterSeq`, at most `limit` (default 100, at most 1000). */
  inspect(query: DeliveryQuery): Promise<DeliveryRecord[]>;
  /** Makes dead or delivered messages pending again (delivered again, after any earlier message of their key). Returns how many. */
  replay(seqs: readonly number[]): Promise<number>;
  /** Deletes delivered messages settled before `deliveredBefore` (ISO-8601), with their outbox rows. Returns how many. */
  prune(request: { deliveredBefore: string }): Promise<number>;
  /** Numbers only: messages per state, and when the oldest undelivered one was committed. */
  stats(): Promise<DeliveryStats>;
}

/** What a relay asks for. */
export interface ClaimRequest {
  /** The relay's name, recorded with its claims (1..256 characters). */
  relay: string;
  /** 1..1000, default 100. */
  limit?: number;
  /** How long the claim holds, 1 s to 1 h; then the message is claimable again. */
  leaseMs: number;
}

/** A claimed message: the message, its delivery attempt (1 = the first) and the token that proves the claim. */
export interface ClaimedMessage extends OutboxMessage {
  attempt: number;
  claim: string;
}

/** A claim as the delivery calls take it back. */
export interface ClaimToken {
  seq: number;
  claim: string;
}

/** Why a delivery failed, and what to do next. */
export interface DeliveryFailure {
  /** A short reason, kept with the message for operators (at most 500 characters kept). Never a personal value. */
  error: string;
  /** Wait at least this long before the next attempt. */
  retryInMs: number;
  /** With this many attempts made, the message is dead instead of retried. */
  maxAttempts: number;
}

/** Where a message is in its delivery. */
export type DeliveryState = 'pending' | 'claimed' | 'delivered' | 'dead';

/** Which messages `inspect` lists. */
export interface DeliveryQuery {
  state: DeliveryState;
  afterSeq?: number;
  limit?: number;
}

/** A message with its delivery state, for operators. */
export interface DeliveryRecord {
  seq: number;
  id: string;
  topic: string;
  key: string;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  /** When it was delivered or died; null while it is pending or claimed. */
  settledAt: string | null;
}

/** Redacted delivery counts. */
export interface DeliveryStats {
  pending: number;
  claimed: number;
  delivered: number;
  dead: number;
  /** When the oldest message not yet delivered (pending or claimed, lowest seq) was created; null when there is none. */
  oldestUndeliveredAt: string | null;
}

const STATES: ReadonlySet<string> = new Set<DeliveryState>(['pending', 'claimed', 'delivered', 'dead']);
const CLAIM_TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An ISO-8601 date-time with a zone (or a date alone), years 0001–9999: what every store's clock can hold. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Validates a claim request; what every store claims by. */
export function normalizeClaimRequest(request: ClaimRequest): { relay: string; limit: number; leaseMs: number } {
  if (typeof request !== 'object' || request === null) throw new ValidationError('request', 'must be an object');
  const { relay, limit = 100, leaseMs } = request;
  if (typeof relay !== 'string' || relay.length === 0 || relay.length > 256) {
    throw new ValidationError('relay', 'must be a string of 1 to 256 characters');
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1000 || leaseMs > 3_600_000) {
    throw new ValidationError('leaseMs', 'must be a whole number of milliseconds from 1000 to 3600000');
  }
  return { relay, limit, leaseMs };
}

/** Validates claim tokens. */
export function normalizeClaims(claims: readonly ClaimToken[]): ClaimToken[] {
  if (!Array.isArray(claims)) throw new ValidationError('claims', 'must be an array');
  return claims.map((c, i) => {
    if (typeof c !== 'object' || c === null) throw new ValidationError(`claims[${i}]`, 'must be a claim');
    if (!Number.isSafeInteger(c.seq) || c.seq < 1)
      throw new ValidationError(`claims[${i}].seq`, 'must be a positive integer');
    if (typeof c.claim !== 'string' || !CLAIM_TOKEN.test(c.claim)) {
      throw new ValidationError(`claims[${i}].claim`, 'must be a claim token');
    }
    return { seq: c.seq, claim: c.claim };
  });
}

/** Validates a failure report. */
export function normalizeFailure(failure: DeliveryFailure): DeliveryFailure {
  if (typeof failure !== 'object' || failure === null) throw new ValidationError('failure', 'must be an object');
  const { error, retryInMs, maxAttempts } = failure;
  if (typeof error !== 'string') throw new ValidationError('error', 'must be a string');
  if (!Number.isSafeInteger(retryInMs) || retryInMs < 0 || retryInMs > 86_400_000) {
    throw new ValidationError('retryInMs', 'must be a whole number of milliseconds from 0 to 86400000');
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) {
    throw new ValidationError('maxAttempts', 'must be an integer from 1 to 1000');
  }
  return { error: error.slice(0, 500), retryInMs, maxAttempts };
}

/** Validates an inspect query and fills in its defaults. */
export function normalizeDeliveryQuery(query: DeliveryQuery): {
  state: DeliveryState;
  afterSeq: number;
  limit: number;
} {
  if (typeof query !== 'object' || query === null) throw new ValidationError('query', 'must be an object');
  const { state, afterSeq = 0, limit = 100 } = query;
  if (typeof state !== 'string' || !STATES.has(state)) {
    throw new ValidationError('state', 'must be pending, claimed, delivered or dead');
  }
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
    throw new ValidationError('afterSeq', 'must be a non-negative integer');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return { state, afterSeq, limit };
}

/** Validates a list of sequence numbers. */
export function normalizeSeqs(seqs: readonly number[]): number[] {
  if (!Array.isArray(seqs) || seqs.length > 10_000)
    throw new ValidationError('seqs', 'must be an array of at most 10000');
  for (const [i, seq] of seqs.entries()) {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new ValidationError(`seqs[${i}]`, 'must be a positive integer');
  }
  return [...seqs];
}

/** Validates a retention cut-off. */
export function normalizeCutoff(request: { deliveredBefore: string }): string {
  const at = typeof request === 'object' && request !== null ? request.deliveredBefore : undefined;
  if (
    typeof at !== 'string' ||
    !ISO_TIME.test(at) ||
    !isOnTheCalendar(at) ||
    Number.isNaN(Date.parse(at)) ||
    at.startsWith('0000')
  ) {
    throw new ValidationError('deliveredBefore', 'must be an ISO-8601 time with a zone, such as 2026-11-01T00:00:00Z');
  }
  const utc = new Date(at).toISOString();
  if (!/^\d{4}-/.test(utc)) throw new ValidationError('deliveredBefore', 'must be a time in the years 0001 to 9999');
  return utc;
}

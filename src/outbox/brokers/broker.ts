import type { OutboxMessage } from '../../store/store.js';
import type { PublishFunction } from '../relay.js';

/**
 * A connection to a broker that a relay publishes through. `publish`
 * resolves only once the broker has taken the message durably (a JetStream
 * acknowledgement, a RabbitMQ publisher confirm, a Redis reply), so the relay
 * acknowledges nothing the broker could still lose on its way in.
 */
export interface BrokerPublisher {
  /** `nats`, `amqp` or `redis`. */
  readonly kind: BrokerKind;
  /** Where it publishes, for logs: the URL without credentials, and the stream, exchange or key. */
  readonly target: string;
  readonly publish: PublishFunction;
  /** Closes the connection; publish calls after it fail. */
  close(): Promise<void>;
}

/** The brokers the library can publish to. */
export type BrokerKind = 'nats' | 'amqp' | 'redis';

/** Why a broker publisher failed: `missing_client` (the optional package is not installed), `unreachable`, `rejected` (the broker refused the message or its setup), `closed`. */
export type BrokerErrorCode = 'missing_client' | 'unreachable' | 'rejected' | 'closed' | 'invalid_url';

/** An error of a broker publisher. Its message names the broker and what to do, never a message's content. */
export class BrokerError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'BrokerError';
  }
}

/**
 * The body every broker carries: the outbox message as JSON (id, seq, topic,
 * key, payload, createdAt). A consumer reads it back with
 * `parseUserEvent(JSON.parse(body))`.
 */
export function encodeMessage(message: OutboxMessage): string {
  const { id, seq, topic, key, payload, createdAt } = message;
  return JSON.stringify({ id, seq, topic, key, payload, createdAt });
}

/** The URL for logs and errors: scheme, host, port and path, never a user name or password. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  return copy.href;
}

/** Parses a broker URL, refusing a bad one without quoting it (it may hold a password). */
export function parseBrokerUrl(text: string, schemes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BrokerError('invalid_url', `not a URL; expected ${schemes.map((s) => `${s}//…`).join(' or ')}`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new BrokerError('invalid_url', `a ${url.protocol} URL; expected ${schemes.join(' or ')}`);
  }
  return url;
}

/** Reads a positive whole number of milliseconds from a URL option, or the default. */
export function msOption(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BrokerError('invalid_url', `option ${name} must be a positive whole number of milliseconds`);
  }
  return value;
}

/**
 * Loads an optional peer package, or explains how to install it. The import
 * is dynamic, so the library never loads a broker client unless a relay for
 * that broker is opened.
 */
export async function loadClient<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new BrokerError('missing_client', `this broker needs the optional package ${name}: npm install ${name}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Rejects when `signal` aborts; for client calls that take no signal of their own. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new BrokerError('closed', 'the publish call was abandoned'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new BrokerError('closed', 'the publish call was abandoned'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

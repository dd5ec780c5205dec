import { BrokerError } from '../outbox/brokers/broker.js';
import { UserEngineError, type UserEngineErrorCode } from '../store/errors.js';

/**
 * The codes the tool reports: the engine's own, plus the tool's for what
 * happens before or around the engine (the command line, opening a store).
 */
export type CliErrorCode =
  | UserEngineErrorCode
  | 'usage'
  | 'database_not_found'
  | 'authentication_failed'
  | 'permission_denied'
  | 'no_embedded_database'
  | 'embedded_database_busy'
  | 'driver_missing'
  | 'broker_unavailable'
  | 'broker_rejected'
  | 'internal_error';

/**
 * Exit codes by kind of failure (docs/cli.md):
 * 0 done; 1 the command was refused (not found, invalid input, taken,
 * conflict, invalid state, a broker refused the relay's setup) or `status`
 * found the store not ready; 2 the command line is wrong; 3 the store or
 * broker cannot be used (unreachable, wrong database or role, embedded
 * database missing or busy, driver or broker client missing, schema not
 * migrated).
 */
export const EXIT = Object.freeze({ ok: 0, refused: 1, usage: 2, unavailable: 3 });

const UNAVAILABLE: ReadonlySet<CliErrorCode> = new Set<CliErrorCode>([
  'store_unavailable',
  'schema_not_ready',
  'database_not_found',
  'authentication_failed',
  'permission_denied',
  'no_embedded_database',
  'embedded_database_busy',
  'driver_missing',
  'broker_unavailable',
]);

export function exitCodeFor(code: CliErrorCode): number {
  if (code === 'usage') return EXIT.usage;
  return UNAVAILABLE.has(code) ? EXIT.unavailable : EXIT.refused;
}

/** A failure the tool itself reports, with its code. Messages never quote a value the user typed. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'CliError';
  }
}

/** The command line is wrong: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** What is printed for a failure: the code, one line of words, and the exit code. */
export interface Failure {
  code: CliErrorCode;
  message: string;
  exitCode: number;
  /** The option or argument at fault, for `invalid_input`. */
  field?: string;
}

/** Where a failed command was pointed, so messages can say what to run next. */
export interface FailureContext {
  /** e.g. `--schema accounts`, appended to suggested commands; empty for the default schema. */
  storeFlags: string;
  /** Turns a store error into words about the database it came from, or null (see database-errors.ts). */
  explainStoreError?: (error: UserEngineError) => CliError | null;
}

/** Words for the codes whose library message is not what a user of the tool needs (the rest are used as they are). */
const PLAIN_WORDS: Partial<Record<CliErrorCode, string>> = {
  version_conflict: 'the user changed since that version was read; read it again and retry',
};

/** The engine's field names, as the options and arguments a user of the tool typed. */
const FIELD_AS_OPTION: Record<string, string> = {
  email: '--email',
  handle: '--handle',
  displayName: '--display-name',
  locale: '--locale',
  attributes: '--attributes',
  reason: '--reason',
  role: 'ROLE',
  identity: '--identity',
  id: 'the user id',
  after: '--after',
  limit: '--limit',
  afterSeq: '--after-seq',
  recordKey: '--record-key',
  key: '--record-key',
  expectedVersion: '--expected-version',
  actor: '--actor',
  schema: '--schema',
};

function optionForField(field: string): string {
  const head = field.split(/[.[]/, 1)[0] ?? field;
  return FIELD_AS_OPTION[head] ?? field;
}

/** Turns anything a command threw into the one line (and code) the user sees. */
export function describeFailure(error: unknown, context: FailureContext): Failure {
  if (error instanceof CliError) return { code: error.code, message: error.message, exitCode: exitCodeFor(error.code) };
  if (error instanceof BrokerError) return describeFailure(brokerFailure(error), context);
  if (UserEngineError.is(error)) {
    const explained = context.explainStoreError?.(error) ?? null;
    if (explained !== null) return describeFailure(explained, context);
    return engineFailure(error, context);
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal_error',
    message: `unexpected error: ${firstLine(message)} (run again with --verbose for the stack trace)`,
    exitCode: EXIT.refused,
  };
}

/** A broker publisher's error as the tool's: a missing client is a missing driver, a bad URL a usage error. */
function brokerFailure(error: BrokerError): CliError {
  const code: CliErrorCode =
    error.code === 'missing_client'
      ? 'driver_missing'
      : error.code === 'invalid_url'
        ? 'usage'
        : error.code === 'rejected'
          ? 'broker_rejected'
          : 'broker_unavailable';
  return new CliError(code, `--to: ${error.message}`, { cause: error });
}

function engineFailure(error: UserEngineError, context: FailureContext): Failure {
  const code = error.code;
  const base = { code, exitCode: exitCodeFor(code) };
  if (code === 'invalid_input') {
    const field = (error as { field?: unknown }).field;
    if (typeof field === 'string') {
      const option = optionForField(field);
      const reason = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
      return { ...base, field: option, message: `${option}: ${reason}` };
    }
  }
  if (code === 'schema_not_ready') {
    const migrate = `run: user-engine migrate${context.storeFlags}`;
    const cleaned = error.message.replace(/;? ?run migrate\(\)\.?$/, '');
    const fixable = cleaned !== error.message;
    return { ...base, message: fixable ? `${cleaned}; ${migrate}` : cleaned };
  }
  const words = PLAIN_WORDS[code];
  return { ...base, message: words ?? firstLine(error.message) };
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

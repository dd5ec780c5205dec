import { SchemaNotReadyError, StoreUnavailableError, UserEngineError, VersionConflictError } from '../store/errors.js';

/**
 * Turns whatever a driver threw into a core error, by SQLSTATE where there is
 * one and by the driver's own connection-error codes where there is not.
 * Messages carry the SQLSTATE and never the driver's text. The driver error is
 * kept as `cause` — except for data exceptions (class 22) and integrity
 * violations (class 23), whose message and DETAIL can quote the values of a
 * row (`Key (kind, id)=(user-email, ada@example.com) already exists`): for
 * those the cause is a `RedactedDriverError` with the SQLSTATE only, so that
 * logging the error, cause chain included, never logs an address.
 */
export function mapPostgresError(error: unknown, operation: string): UserEngineError {
  if (UserEngineError.is(error)) return error;
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined && (sqlState.startsWith('22') || sqlState.startsWith('23'))) {
    error = new RedactedDriverError(sqlState);
  }
  if (sqlState !== undefined) {
    // UE409: raise_conflict() in a write-batch statement; the store names the key from the position.
    if (sqlState === CONFLICT_SQLSTATE) {
      return new VersionConflictError(null, `version conflict during ${operation}`, { cause: error });
    }
    // 23505 unique violation, 40001 serialization failure, 40P01 deadlock: another writer won.
    if (sqlState === '23505' || sqlState === '40001' || sqlState === '40P01') {
      return new VersionConflictError(null, `version conflict during ${operation} (SQLSTATE ${sqlState})`, {
        cause: error,
      });
    }
    // 42P05 duplicate / 26000 missing prepared statement: named statements on a connection shared between
    // sessions, which is what a transaction-mode pooler does. Say what to change.
    if (sqlState === '42P05' || sqlState === '26000') {
      return new StoreUnavailableError(
        `named prepared statements failed during ${operation} (SQLSTATE ${sqlState}): the connection is shared between sessions, as a transaction-mode pooler such as PgBouncer does. Use fromNodePostgres(pool, { prepare: false }) or fromPostgresJs(sql, { prepare: false }) (CLI: --no-prepare), or PgBouncer 1.21+ with max_prepared_statements`,
        { cause: error },
      );
    }
    // 25P02: a statement on a connection whose transaction an earlier error aborted.
    if (sqlState === '25P02') {
      return new StoreUnavailableError(
        `the connection's transaction was aborted by an earlier error during ${operation} (SQLSTATE 25P02): roll it back before using the store on it again`,
        { cause: error },
      );
    }
    // 42P01 undefined table, 3F000 undefined schema, 42883 undefined function: not migrated (or dropped).
    if (sqlState === '42P01' || sqlState === '3F000' || sqlState === '42883') {
      return new SchemaNotReadyError(
        `the user-engine schema objects are missing during ${operation} (SQLSTATE ${sqlState}); run migrate()`,
        { cause: error },
      );
    }
    // 08xxx connection exceptions, 57P01..57P03 shutdown or termination, 53300 too many connections.
    if (sqlState.startsWith('08') || sqlState.startsWith('57P') || sqlState === '53300') {
      return new StoreUnavailableError(`postgres connection lost during ${operation} (SQLSTATE ${sqlState})`, {
        cause: error,
      });
    }
    return new StoreUnavailableError(`postgres failed during ${operation} (SQLSTATE ${sqlState})`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`postgres connection failed during ${operation}: ${firstLine(message)}`, {
    cause: error,
  });
}

/** A driver error whose text could quote row values, reduced to its SQLSTATE. */
export class RedactedDriverError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`SQLSTATE ${code} (the driver's message and detail are withheld: they can quote row values)`);
    this.code = code;
    this.name = 'RedactedDriverError';
  }
}

/** The SQLSTATE `raise_conflict()` uses (a class of our own: no standard class starts with U). */
export const CONFLICT_SQLSTATE = 'UE409';

/** The write position a `raise_conflict()` error reports (its DETAIL), or null for any other error. */
export function conflictPosition(error: unknown): number | null {
  if (sqlStateOf(error) !== CONFLICT_SQLSTATE) return null;
  const detail = (error as { detail?: unknown }).detail;
  const position = typeof detail === 'string' ? Number.parseInt(detail, 10) : Number.NaN;
  return Number.isSafeInteger(position) && position > 0 ? position : null;
}

/** SQLSTATEs are five characters of digits and upper-case letters; node socket codes (ECONNRESET) are not. */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

import { sqlStateOf } from '../postgres/error-mapper.js';
import type { UserEngineError } from '../store/errors.js';
import { CliError } from './errors.js';
import type { DatabaseTarget } from './store-selection.js';

/**
 * Says what is wrong with a database the tool could not use, and what to do,
 * from the driver error the store kept as `cause` and the URL the user gave:
 * the store's own message (`postgres failed during readiness (SQLSTATE 3D000)`)
 * is right for a library log, not for a person at a terminal. Null when the
 * error is not about reaching the database. Messages name the host, port,
 * database and role from the URL — never the password.
 */
export function explainDatabaseError(error: UserEngineError, target: DatabaseTarget): CliError | null {
  if (error.code !== 'store_unavailable' && error.code !== 'schema_not_ready') return null;
  const cause = error.cause;
  const at = `${target.host}:${target.port}`;
  const sqlState = sqlStateOf(cause);
  const explained = (code: ConstructorParameters<typeof CliError>[0], message: string) =>
    new CliError(code, message, { cause: error });
  switch (sqlState) {
    case '3D000':
      return explained(
        'database_not_found',
        `database "${target.database}" does not exist on ${at}; create it (createdb ${target.database}) or correct the database name in the URL`,
      );
    case '28000':
      return explained(
        'authentication_failed',
        `the server at ${at} does not accept role "${target.user}" (the role does not exist, or pg_hba.conf does not let it connect to database "${target.database}"); check the user name in the URL`,
      );
    case '28P01':
      return explained(
        'authentication_failed',
        `password authentication failed for role "${target.user}" at ${at}; check the password in the URL`,
      );
    case '42501':
      return explained(
        'permission_denied',
        `role "${target.user}" lacks a privilege this command needs on database "${target.database}" (SQLSTATE 42501); migrate needs CREATE on the database and the schema, other commands need the schema's tables`,
      );
    case '57P03':
      return explained('store_unavailable', `the server at ${at} is starting up or shutting down; try again shortly`);
    case '53300':
      return explained('store_unavailable', `the server at ${at} has no connection slots left (too many connections)`);
  }
  if (sqlState !== undefined) return null;
  const code = errnoOf(cause);
  const text = cause instanceof Error ? cause.message : '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return explained('store_unavailable', `cannot resolve the host "${target.host}" from the URL; check the host name`);
  }
  if (code === 'ECONNREFUSED') {
    return explained(
      'store_unavailable',
      `nothing accepts connections at ${at} (connection refused); is PostgreSQL running there, and is the port right?`,
    );
  }
  if (code === 'ETIMEDOUT' || /timeout/i.test(text)) {
    return explained('store_unavailable', `timed out connecting to ${at}; check the host, the port and any firewall`);
  }
  if (/does not support SSL/i.test(text)) {
    return explained(
      'store_unavailable',
      `the server at ${at} does not accept SSL connections, but the URL asks for sslmode=${target.sslmode ?? 'require'}; remove sslmode or use sslmode=disable for this server`,
    );
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    return explained(
      'store_unavailable',
      `the server at ${at} presented a TLS certificate that was not accepted (${code}); with sslmode=verify-full the certificate must be valid for the host (give its CA with sslrootcert=FILE), and sslmode=require encrypts without verifying`,
    );
  }
  if (error.code === 'store_unavailable' && text !== '') {
    return explained('store_unavailable', `could not use PostgreSQL at ${at}: ${firstLine(text)}`);
  }
  return null;
}

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node's happy-eyeballs connect reports every address it tried in an AggregateError.
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errnoOf(inner[0]) : undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

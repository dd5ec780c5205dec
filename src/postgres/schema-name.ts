import { ValidationError } from '../store/errors.js';

/** A schema name that has been validated; the only identifier the store ever puts into SQL text. */
export interface SchemaName {
  /** As given, e.g. `user_engine`. */
  readonly name: string;
  /** Double-quoted for SQL text, e.g. `"user_engine"`. */
  readonly quoted: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Lower-case letters, digits and `_`, not starting with a digit, at most 63
 * bytes (Postgres' identifier limit), and not a `pg_` system name. Quoting
 * such a name can never change its meaning, and it needs no escaping.
 */
export function schemaName(name: unknown): SchemaName {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || name.startsWith('pg_')) {
    throw new ValidationError('schema', 'must be 1 to 63 of a-z, 0-9 and _, not starting with a digit or pg_');
  }
  return { name, quoted: `"${name}"` };
}

/** The table, in the store's schema, that records the applied schema versions. */
export const MIGRATIONS_TABLE = 'schema_migrations';

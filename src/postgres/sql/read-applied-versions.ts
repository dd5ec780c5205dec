import { MIGRATIONS_TABLE, type SchemaName } from '../schema-name.js';

/** The applied schema versions. Fails with 42P01/3F000 on a database never migrated. */
export const readAppliedVersionsSql = (s: SchemaName) =>
  `SELECT version, name, checksum, breaking FROM ${s.quoted}.${MIGRATIONS_TABLE} ORDER BY version`;

/**
 * Timestamps leave the server already as ISO-8601 UTC text with
 * milliseconds: every driver then hands back the same string, and nobody
 * parses a timestamp into a Date only to print it again.
 */
export const isoTimestamp = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The columns of a record row as `deserializeRecord` reads them; `t` is the table alias. */
export const recordColumns = (t: string) =>
  `${t}.kind, ${t}.id, ${t}.version, ${t}.data::text AS data, ${isoTimestamp(`${t}.created_at`)} AS created_at, ${isoTimestamp(`${t}.updated_at`)} AS updated_at`;

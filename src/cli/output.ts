/** Plain-text tables for people; `--json` bypasses all of this. */

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Longer values are cut with an ellipsis. */
  max?: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters would break the table layout.
const CONTROL = /[\u0000-\u001f\u007f]/g;

function cut(text: string, max: number | undefined): string {
  const clean = text.replace(CONTROL, ' ');
  return max !== undefined && clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cut(c.value(row), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of cells) out.push(line(row));
  if (rows.length === 0) out.push('(none)');
  return out.join('\n');
}

/** Key/value lines, aligned. */
export function fields(pairs: readonly [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cut(v, 200)}`).join('\n');
}

import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CliRun } from './cli.js';

/** One row of the tool's error table: a mistake, what the tool says, and its exit code. */
export interface Mistake {
  /** The mistake, as the person making it would put it. */
  mistake: string;
  args: string[];
  env?: Record<string, string>;
  exit: number;
  code: string;
  /** The whole message between `user-engine: ` and ` [code]`; a RegExp when it names a temp directory. */
  message: string | RegExp;
}

/**
 * Values the error table types into the tool, which no error may repeat:
 * addresses, handles, names, identities, reasons, passwords.
 */
export const PERSONAL = [
  'secret.person@example.com',
  'not-an-email',
  'secret_handle',
  'Secret Person',
  'secret-subject',
  'a reason that names someone',
  'hunter2',
];

/**
 * With USER_ENGINE_ERROR_TABLE=<file>, each checked failure appends a row of
 * the error table — the mistake, the command line, what the real tool printed
 * and its exit code — as Markdown (docs and notes quote it from a real run).
 */
function recordRow(run: CliRun, row: Mistake): void {
  const file = process.env.USER_ENGINE_ERROR_TABLE;
  if (file === undefined || file === '') return;
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const said = run.stderr.trimEnd().replace(/^user-engine: /, '');
  appendFileSync(file, `| ${cell(row.mistake)} | \`${cell(row.args.join(' '))}\` | ${cell(said)} | ${run.code} |\n`);
}

/** The one line on stderr, in words and code; nothing on stdout; the exit code; no personal value anywhere. */
export function expectTextFailure(run: CliRun, row: Mistake): void {
  recordRow(run, row);
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: row.exit, stdout: '' });
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  const line = lines[0] ?? '';
  const match = /^user-engine: (.*) \[([a-z_]+)\]$/.exec(line);
  expect(match, line).not.toBeNull();
  expect(match?.[2]).toBe(row.code);
  if (typeof row.message === 'string') expect(match?.[1]).toBe(row.message);
  else expect(match?.[1]).toMatch(row.message);
  expectNoPersonalValue(run);
}

/** With --json: one JSON object on stderr, `{"error":{"code","message"}}`, the same words; nothing on stdout. */
export function expectJsonFailure(run: CliRun, row: Mistake): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: row.exit, stdout: '' });
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  const parsed = JSON.parse(lines[0] ?? '') as { error: { code: string; message: string } };
  expect(parsed.error.code).toBe(row.code);
  if (typeof row.message === 'string') expect(parsed.error.message).toBe(row.message);
  else expect(parsed.error.message).toMatch(row.message);
  expectNoPersonalValue(run);
}

export function expectNoPersonalValue(run: CliRun): void {
  for (const value of PERSONAL) {
    expect(run.stderr).not.toContain(value);
    expect(run.stdout).not.toContain(value);
  }
}

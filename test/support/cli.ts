import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const BIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** The run is killed and the promise rejected after this long: a hang fails instead of stalling the suite. */
  timeoutMs?: number;
}

/** The built bin, started as a user would start it in `cwd`, with DATABASE_URL cleared unless given. */
export interface StartedCli {
  child: ChildProcess;
  /** What it printed so far. */
  output: { stdout: string; stderr: string };
  /** Its exit code, or the signal that ended it. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], options: Pick<CliOptions, 'cwd' | 'env'>): StartedCli {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', ...options.env };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, output, ended };
}

/** Runs the built bin to its end (see `startCli`). */
export function cli(args: string[], options: CliOptions): Promise<CliRun> {
  const started = Date.now();
  const { child, output, ended } = startCli(args, options);
  const timeoutMs = options.timeoutMs ?? 90_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`user-engine ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([ended, timedOut]).then(
    ({ code }) => {
      clearTimeout(timer);
      return { code, ...output, ms: Date.now() - started };
    },
    (error: unknown) => {
      clearTimeout(timer);
      throw error;
    },
  );
}

const made: string[] = [];

/** A fresh directory, removed after the test file that made it (an embedded database is about 40 MB). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `user-engine-${prefix}-`));
  made.push(dir);
  return dir;
}

// Imported by a test file while it is collected, so this hook belongs to that file.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

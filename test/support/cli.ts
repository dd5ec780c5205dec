import { spawn } from 'node:child_process';
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

/** Runs the built bin as a user would, in `cwd`, with DATABASE_URL cleared unless given. */
export function cli(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', ...options.env };
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timeoutMs = options.timeoutMs ?? 90_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`user-engine ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
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

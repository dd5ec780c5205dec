import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';

/** Thrown when another live process holds the embedded directory. */
export class EmbeddedDirectoryBusyError extends CliError {
  constructor(message: string) {
    super('embedded_database_busy', message);
  }
}

const LOCK_FILE = 'user-engine.lock';
const TAKEOVER_FILE = 'user-engine.lock.takeover';
/** A takeover file older than this was left by a process that died mid-takeover. */
const STALE_TAKEOVER_MS = 10_000;

export interface EmbeddedLock {
  release(): void;
}

/**
 * One process per embedded directory: PGlite keeps a whole Postgres data
 * directory and two instances writing it at once would corrupt it. The lock
 * is a file created with O_EXCL holding the owner's pid. A lock whose owner
 * is dead is stale and is taken over; the takeover itself is guarded by a
 * second O_EXCL file so two processes cannot both remove the stale lock and
 * then both think they hold a fresh one. A busy directory is retried for
 * `waitMs`, then refused with a one-line error naming the holder.
 */
export async function acquireEmbeddedLock(dir: string, waitMs = 3_000): Promise<EmbeddedLock> {
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(lockPath)) return { release: () => removeIfOwned(lockPath) };
    const holder = readPid(lockPath);
    if (holder !== null && !isAlive(holder)) {
      if (takeOverStaleLock(dir, lockPath, holder)) return { release: () => removeIfOwned(lockPath) };
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EmbeddedDirectoryBusyError(
        `the embedded database in ${dir} is in use by another user-engine process${holder === null ? '' : ` (pid ${holder})`}; wait for it to finish, or use --memory or --database-url`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function takeOverStaleLock(dir: string, lockPath: string, stalePid: number): boolean {
  const takeoverPath = join(dir, TAKEOVER_FILE);
  if (!tryCreate(takeoverPath)) {
    try {
      if (Date.now() - statSync(takeoverPath).mtimeMs > STALE_TAKEOVER_MS) unlinkSync(takeoverPath);
    } catch {
      // Another process finished its takeover meanwhile; look again.
    }
    return false;
  }
  try {
    // Still the same dead owner? Then nobody else took over in between.
    if (readPid(lockPath) === stalePid) unlinkSync(lockPath);
    return tryCreate(lockPath);
  } finally {
    unlinkSync(takeoverPath);
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfOwned(path: string): void {
  if (readPid(path) === process.pid) unlinkSync(path);
}

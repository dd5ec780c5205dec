import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A primary and a streaming replica of our own, in scratch directories, on
 * ports of our own — never the server the other tests use — with synchronous
 * replication on, so a commit is acknowledged only once the replica has it.
 * Needs PostgreSQL's server binaries (Debian: /usr/lib/postgresql/<v>/bin)
 * and, when run as root, the `postgres` system user to run them.
 */
export interface ReplicatedPair {
  primaryPort: number;
  replicaPort: number;
  /** Kills the primary at once, as a crash would (`pg_ctl stop -m immediate`). */
  crashPrimary(): void;
  /** Promotes the replica to primary and waits until it accepts writes. */
  promoteReplica(): void;
  /** Stops both servers and deletes their directories. */
  destroy(): void;
}

function binDir(): string {
  const candidates = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')));
  if (found === undefined) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found');
  return found;
}

/** Runs a server binary as the postgres user when we are root (PostgreSQL refuses to run as root). */
function run(bin: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  return execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function startReplicatedPair(primaryPort: number, replicaPort: number): ReplicatedPair {
  const bin = binDir();
  const root = mkdtempSync(join(tmpdir(), 'user-engine-failover-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', root]);
  const primary = join(root, 'primary');
  const replica = join(root, 'replica');
  const ctl = (dir: string, ...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', dir, '-w', '-t', '60', ...args]);
  const stopQuietly = (dir: string) => {
    try {
      ctl(dir, 'stop', '-m', 'immediate');
    } catch {
      // already stopped
    }
  };
  try {
    run(join(bin, 'initdb'), ['-D', primary, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    appendFileSync(
      join(primary, 'postgresql.conf'),
      [
        `port = ${primaryPort}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${root}'`,
        'wal_level = replica',
        'max_wal_senders = 4',
        `synchronous_standby_names = 'ue_replica'`,
        'synchronous_commit = on',
        'fsync = on',
        '',
      ].join('\n'),
    );
    appendFileSync(join(primary, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
    ctl(primary, 'start', '-l', join(root, 'primary.log'));
    run(join(bin, 'pg_basebackup'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      replica,
      '-X',
      'stream',
    ]);
    // The replica: its own port, and the name the primary waits for.
    appendFileSync(
      join(replica, 'postgresql.conf'),
      [
        `port = ${replicaPort}`,
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=ue_replica'`,
        // Once promoted it has no standby of its own to wait for (a real deployment would attach one).
        `synchronous_standby_names = ''`,
        '',
      ].join('\n'),
    );
    // A standby (not -R, whose primary_conninfo in postgresql.auto.conf would override ours).
    writeFileSync(join(replica, 'standby.signal'), '');
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', join(replica, 'standby.signal')]);
    ctl(replica, 'start', '-l', join(root, 'replica.log'));
  } catch (error) {
    stopQuietly(replica);
    stopQuietly(primary);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    primaryPort,
    replicaPort,
    crashPrimary: () => stopQuietly(primary),
    promoteReplica: () => {
      ctl(replica, 'promote');
      writeFileSync(join(root, 'promoted'), new Date().toISOString());
    },
    destroy: () => {
      stopQuietly(replica);
      stopQuietly(primary);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// `npm run failover [-- --seconds N --workers N]`: the failover proof, longer than CI's.
// Needs PostgreSQL's server binaries; run as root it runs them as the postgres user.
import { runFailover } from './failover.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = option('seconds', 10);
const workers = option('workers', 8);
const report = await runFailover({ beforeMs: (seconds * 1000) / 2, afterMs: (seconds * 1000) / 2, workers });
console.log(JSON.stringify(report, null, 2));
const ok = report.lost === 0 && report.unexpected.length === 0 && report.invariantFailures.length === 0 && report.acknowledgedAfterSwitch > 0;
console.log(ok ? 'failover passed: no acknowledged commit lost' : 'FAILOVER FAILED');
process.exitCode = ok ? 0 : 1;

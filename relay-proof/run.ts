// `npm run relay-proof [-- --brokers nats,amqp,redis --kills 20 --seconds 30]`: the
// relay proof at full length, one broker after another, with a table at the end.
// Needs PostgreSQL (USER_ENGINE_TEST_DATABASE_URL) and the three brokers on their
// default local ports.
import { type BrokerName, proofFailures, type RelayProofReport, runRelayProof } from './proof.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const at = process.argv.indexOf('--brokers');
const brokers = (at < 0 ? 'nats,amqp,redis' : (process.argv[at + 1] ?? '')).split(',') as BrokerName[];
const databaseUrl = process.env.USER_ENGINE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const seconds = option('seconds', 30);
const kills = option('kills', 20);

const reports: RelayProofReport[] = [];
let failed = false;
for (const broker of brokers) {
  const report = await runRelayProof({
    broker,
    databaseUrl,
    kills,
    workloadMs: seconds * 1000,
    workers: 8,
    hotUsers: 20,
    outageMs: 3000,
    longTransactionMs: Math.min(5000, seconds * 200),
    log: (line) => console.error(line),
  });
  reports.push(report);
  const failures = proofFailures(report);
  console.error(`${broker}: ${failures.length === 0 ? 'passed' : `FAILED: ${failures.join('; ')}`}`);
  failed ||= failures.length > 0;
}
console.log(JSON.stringify(reports, null, 2));
console.log('\n| broker | written | received | duplicates | late duplicates | lost | reordered | kills | relays | drain ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of reports) {
  console.log(
    `| ${r.broker} | ${r.written} | ${r.received} | ${r.duplicates} | ${r.lateDuplicates} | ${r.lost} | ${r.reordered} | ${r.kills} | ${r.relaysStarted} | ${r.drainMs} |`,
  );
}
process.exitCode = failed ? 1 : 0;

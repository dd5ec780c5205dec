// The relay proof against the live brokers, short: for NATS JetStream, RabbitMQ
// and Redis Streams at once, a concurrent workload while relay processes are
// SIGKILLed, the broker is unreachable for a while, two relays run at once and
// a long transaction commits after later ones; the consumer must receive every
// event in per-user order. Runs when USER_ENGINE_TEST_BROKERS=1 and a database
// URL is set (CI sets both and starts the brokers). `npm run relay-proof` is
// the full run: 20 kills per broker.
import { describe, expect, it } from 'vitest';
import { type BrokerName, proofFailures, runRelayProof } from '../relay-proof/proof.js';

const databaseUrl = process.env.USER_ENGINE_TEST_DATABASE_URL;
const enabled = process.env.USER_ENGINE_TEST_BROKERS === '1' && databaseUrl !== undefined;

describe.skipIf(!enabled)('relay proof (live brokers, short)', () => {
  for (const broker of ['nats', 'amqp', 'redis'] as BrokerName[]) {
    it.concurrent(`${broker}: every event arrives, in per-user order, through kills, an outage and a late commit`, async () => {
      const report = await runRelayProof({
        broker,
        databaseUrl: databaseUrl as string,
        kills: 4,
        workloadMs: 6000,
        workers: 4,
        hotUsers: 10,
        outageMs: 1500,
        longTransactionMs: 2000,
      });
      console.log(`relay proof ${broker}: ${JSON.stringify(report)}`);
      expect(proofFailures(report)).toEqual([]);
      expect(report.written).toBeGreaterThan(100);
      expect(report.longTransaction.committedMeanwhile).toBeGreaterThan(0);
    });
  }
});

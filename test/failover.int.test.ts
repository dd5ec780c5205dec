// Failover: a primary and its synchronous replica of the test's own (scratch
// directories, ports of their own), commands through a connection the test
// repoints; the primary crashes, the replica is promoted. Runs when
// USER_ENGINE_TEST_FAILOVER=1 (CI sets it; it needs PostgreSQL's server
// binaries). `npm run failover` is the longer run.
import { describe, expect, it } from 'vitest';
import { runFailover } from '../failover/failover.js';

describe.skipIf(process.env.USER_ENGINE_TEST_FAILOVER !== '1')('failover (live, own clusters)', () => {
  it('no acknowledged commit is lost; in-flight calls fail as store_unavailable; the store works after the switch', async () => {
    const report = await runFailover({ beforeMs: 2_000, afterMs: 2_000, workers: 6 });
    console.log(`failover: ${JSON.stringify(report)}`);
    expect(report.lost).toBe(0);
    expect(report.unexpected).toEqual([]);
    expect(report.invariantFailures).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.acknowledgedAfterSwitch).toBeGreaterThan(0);
  });
});

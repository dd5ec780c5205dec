import { registerSuite, type StoreFactory, type SuiteOptions, type TestRunner } from '../harness.js';
import { auditOutboxCases } from './audit-outbox.js';
import { countCases } from './counts.js';
import { dataMigrationCases } from './data-migrations.js';
import { deliveryCases } from './delivery.js';
import { lifecycleCases } from './lifecycle.js';
import { recordCases } from './records.js';
import { schemaCases } from './schema.js';
import type { Case } from './support.js';
import { unitOfWorkCases } from './unit-of-work.js';

/** The store conformance cases, by topic, for runners other than `runStoreConformance`. */
export const conformanceCases: readonly Case[] = [
  ...schemaCases,
  ...recordCases,
  ...unitOfWorkCases,
  ...auditOutboxCases,
  ...countCases,
  ...dataMigrationCases,
  ...deliveryCases,
  ...lifecycleCases,
];

/**
 * Registers the store conformance suite with a test runner: one test per
 * case, each on a fresh store from `factory`, torn down afterwards.
 *
 * @example
 * import { describe, it } from 'vitest';
 * runStoreConformance({ describe, it }, 'postgres', async () => ({ store: makeStore(), teardown }));
 */
export function runStoreConformance(
  runner: TestRunner,
  storeName: string,
  factory: StoreFactory,
  options: SuiteOptions = {},
): void {
  registerSuite(
    runner,
    `store conformance [${storeName}]`,
    conformanceCases,
    async () => {
      const handle = await factory();
      return { context: handle, teardown: async () => handle.teardown?.() };
    },
    options,
  );
}

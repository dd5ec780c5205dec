// The `user-engine/testing` entry point, for anyone proving a store or a
// database: the shared suites (conformance, engine scenarios, races, the
// Auth.js adapter cases), the
// invariant checker, the fake Postgres connection, a statement counter and
// scratch schema names.

export { type AuthjsCaseContext, authjsAdapterCases, runAuthjsAdapterCases } from './authjs-cases.js';
export { conformanceCases, runStoreConformance } from './conformance/index.js';
export { CountingConnection, type StatementKind } from './counting-connection.js';
export { type EngineScenarioContext, engineScenarios, runEngineScenarios } from './engine-scenarios.js';
export { FakePostgresConnection, FakePostgresError, type RecordedStatement } from './fake-postgres-connection.js';
export type {
  CallerTransaction,
  StoreFactory,
  StoreHandle,
  SuiteCapability,
  SuiteCase,
  SuiteOptions,
  TestRunner,
} from './harness.js';
export { checkUserInvariants, type InvariantExpectations, type InvariantReport } from './invariants.js';
export { type RaceScenarioContext, raceScenarios, runRaceScenarios } from './race-scenarios.js';
export { dumpStore } from './read-all.js';
export { assertSchemaAbsent, scratchSchemaName } from './scratch-schema.js';

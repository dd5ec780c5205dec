// The `user-engine/testing` entry point: the shared suites every store runs.

export { conformanceCases, HOSTILE_TEXTS, runStoreConformance } from './conformance.js';
export { CountingConnection, type StatementKind, statementKind } from './counting-connection.js';
export { dumpStore, type EngineScenarioContext, engineScenarios, runEngineScenarios } from './engine-scenarios.js';
export { FakePostgresConnection, FakePostgresError, type RecordedStatement } from './fake-postgres-connection.js';
export * from './harness.js';
export { checkUserInvariants, type InvariantExpectations, type InvariantReport } from './invariants.js';
export { type RaceScenarioContext, raceScenarios, runRaceScenarios } from './race-scenarios.js';
export { readAllAudit, readAllOutbox, readAllRecords } from './read-all.js';
export { assertSchemaAbsent, scratchSchemaName } from './scratch-schema.js';

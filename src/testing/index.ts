// The `user-engine/testing` entry point: the shared suites every store runs.

export { conformanceCases, HOSTILE_TEXTS, runStoreConformance } from './conformance.js';
export { dumpStore, type EngineScenarioContext, engineScenarios, runEngineScenarios } from './engine-scenarios.js';
export { FakePostgresConnection, FakePostgresError, type RecordedStatement } from './fake-postgres-connection.js';
export * from './harness.js';
export { readAllAudit, readAllOutbox, readAllRecords } from './read-all.js';

// The `user-engine/testing` entry point: the shared suites every store runs.

export { conformanceCases, HOSTILE_TEXTS, runStoreConformance } from './conformance.js';
export * from './harness.js';

export {
  applyCommitBatch,
  type FailedExpectation,
  InMemoryDatabase,
  type InMemoryStoreOptions,
  InMemoryUserEngineStore,
} from './memory-store.js';

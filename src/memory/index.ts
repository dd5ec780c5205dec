export { InMemoryDatabase, type InMemoryStoreOptions, InMemoryUserEngineStore } from './memory-store.js';

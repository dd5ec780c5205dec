import { describe, it } from 'vitest';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { runEngineScenarios, runStoreConformance, type StoreFactory } from '../src/testing/index.js';

const runner = { describe, it, skip: it.skip };

const memoryStore: StoreFactory = async () => {
  const database = new InMemoryDatabase();
  return {
    store: new InMemoryUserEngineStore({ database }),
    openOlder: (schemaVersions) => new InMemoryUserEngineStore({ database, schemaVersions }),
    writeAppliedSchemaVersion: async (row) => database.writeAppliedSchemaVersion(row),
  };
};

runStoreConformance(runner, 'memory', memoryStore, {
  capabilities: ['schemaBackdoor', 'indexedRecord', 'indexedPair', 'olderCode', 'delivery'],
});
runEngineScenarios(runner, 'memory', memoryStore);

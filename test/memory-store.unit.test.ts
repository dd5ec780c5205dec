import { describe, it } from 'vitest';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { runEngineScenarios, runStoreConformance, type StoreFactory } from '../src/testing/index.js';

const runner = { describe, it, skip: it.skip };

const memoryStore: StoreFactory = async () => {
  const database = new InMemoryDatabase();
  return {
    store: new InMemoryUserEngineStore({ database }),
    writeAppliedSchemaVersion: async (row) => database.writeAppliedSchemaVersion(row),
  };
};

runStoreConformance(runner, 'memory', memoryStore, { capabilities: ['schemaBackdoor', 'indexedRecord'] });
runEngineScenarios(runner, 'memory', memoryStore);

import { describe, it } from 'vitest';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { runEngineScenarios, runStoreConformance, type StoreFactory } from '../src/testing/index.js';

const runner = { describe, it, skip: it.skip };

const memoryStore: StoreFactory = async () => {
  const database = new InMemoryDatabase();
  return {
    store: new InMemoryUserEngineStore({ database }),
    writeAppliedSchemaVersion: async (row) => {
      const at = database.schemaVersions.findIndex((v) => v.version === row.version);
      if (at >= 0) database.schemaVersions.splice(at, 1, { ...row });
      else database.schemaVersions.push({ ...row });
    },
  };
};

runStoreConformance(runner, 'memory', memoryStore, { capabilities: ['schemaBackdoor'] });
runEngineScenarios(runner, 'memory', memoryStore);

import { describe, it } from 'vitest';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { runStoreConformance } from '../src/testing/index.js';

runStoreConformance(
  { describe, it, skip: it.skip },
  'memory',
  async () => {
    const database = new InMemoryDatabase();
    return {
      store: new InMemoryUserEngineStore({ database }),
      writeAppliedSchemaVersion: async (row) => {
        const at = database.schemaVersions.findIndex((v) => v.version === row.version);
        if (at >= 0) database.schemaVersions.splice(at, 1, { ...row });
        else database.schemaVersions.push({ ...row });
      },
    };
  },
  { capabilities: ['schemaBackdoor'] },
);

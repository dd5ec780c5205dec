// The engine on a store that implements only the required contract (no
// optional getIndexedRecord), as a third-party store might: every scenario
// must still hold, through the two-read fallback.
import { describe, it } from 'vitest';
import { InMemoryUserEngineStore, type UserEngineStore } from '../src/index.js';
import { runEngineScenarios } from '../src/testing/index.js';

function minimal(inner: UserEngineStore): UserEngineStore {
  return {
    adapter: 'minimal',
    readiness: () => inner.readiness(),
    migrate: () => inner.migrate(),
    transaction: (work) => inner.transaction(work),
    getRecord: (kind, id) => inner.getRecord(kind, id),
    listRecords: (kind, page) => inner.listRecords(kind, page),
    readAudit: (query) => inner.readAudit(query),
    pendingOutbox: (query) => inner.pendingOutbox(query),
    recordCounts: () => inner.recordCounts(),
    close: () => inner.close(),
  };
}

runEngineScenarios({ describe, it }, 'minimal contract (memory)', async () => ({
  store: minimal(new InMemoryUserEngineStore()),
}));

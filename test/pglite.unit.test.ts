import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, it } from 'vitest';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { runEngineScenarios, runStoreConformance } from '../src/testing/index.js';
import { postgresFactory } from './support/postgres-factory.js';

const runner = { describe, it, skip: it.skip };
const db = new PGlite();
afterAll(async () => db.close());

const factory = postgresFactory(
  'pglite',
  db,
  (connection, schema) => new PostgresUserEngineStore({ connection, schema }),
);
runStoreConformance(runner, 'pglite', factory, {
  capabilities: ['schemaBackdoor', 'indexedRecord', 'indexedPair', 'olderCode', 'delivery'],
});
runEngineScenarios(runner, 'pglite', factory);

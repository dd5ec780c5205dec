// The race suite on every store that needs no server: memory (two stores over one
// database), the fake connection and PGlite, each with its peer forced onto every
// combination of commit paths, so a path that breaks the shared rule is caught here.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, it } from 'vitest';
import { InMemoryDatabase, InMemoryUserEngineStore } from '../src/index.js';
import { type CommitPath, PostgresUserEngineStore } from '../src/postgres/index.js';
import { FakePostgresConnection, runRaceScenarios } from '../src/testing/index.js';
import { raceFactory } from './support/postgres-factory.js';

const runner = { describe, it, skip: it.skip };
const PATH_PAIRS: [CommitPath, CommitPath][] = [
  ['write-batch', 'apply-commit'],
  ['write-batch', 'write-batch'],
  ['apply-commit', 'apply-commit'],
];

runRaceScenarios(runner, 'memory', async () => {
  const database = new InMemoryDatabase();
  return {
    store: new InMemoryUserEngineStore({ database }),
    openPeer: () => new InMemoryUserEngineStore({ database }),
  };
});

for (const paths of PATH_PAIRS) {
  runRaceScenarios(runner, `fake-postgres ${paths.join(' × ')}`, async () => {
    const connection = new FakePostgresConnection();
    return {
      store: new PostgresUserEngineStore({ connection, commitPath: paths[0] }),
      openPeer: () => new PostgresUserEngineStore({ connection, commitPath: paths[1] }),
    };
  });
}

const lite = new PGlite();
afterAll(async () => lite.close());
for (const paths of PATH_PAIRS) {
  runRaceScenarios(runner, `pglite ${paths.join(' × ')}`, raceFactory('race_lite', lite, paths));
}

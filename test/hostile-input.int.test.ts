// Hostile input for every command on the live server through a pg Pool.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { fromNodePostgres, PostgresUserEngineStore } from '../src/postgres/index.js';
import { HOSTILE_COMMANDS as COMMANDS, checkHostileCommand } from './support/hostile.js';
import { freshSchemaName } from './support/postgres-factory.js';

const url = process.env.USER_ENGINE_TEST_DATABASE_URL;
const liveDescribe = url ? describe : describe.skip;

liveDescribe('hostile input [live pg-pool]', () => {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });
  for (const command of COMMANDS) {
    it(`${command}: valid and read back exactly, or ValidationError with nothing written`, async () => {
      const schema = freshSchemaName('hostile');
      schemas.push(schema);
      const store = new PostgresUserEngineStore({ connection: fromNodePostgres(pool), schema });
      await store.migrate();
      const tally = await checkHostileCommand(store, command, 40, 20261202);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.accepted).toBeGreaterThan(0);
    });
  }
});

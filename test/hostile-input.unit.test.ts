// Hostile input for every command on the in-memory store and PGlite: each input
// succeeds and reads back exactly, or is a ValidationError with nothing written.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryUserEngineStore } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { HOSTILE_COMMANDS as COMMANDS, checkHostileCommand } from './support/hostile.js';

describe('hostile input [memory]', () => {
  for (const command of COMMANDS) {
    it(`${command}: valid and read back exactly, or ValidationError with nothing written`, async () => {
      const store = new InMemoryUserEngineStore();
      await store.migrate();
      const tally = await checkHostileCommand(store, command, 300);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refusedForms).toBeGreaterThan(0);
    });
  }
});

describe('hostile input [pglite]', () => {
  const db = new PGlite();
  afterAll(async () => db.close());
  for (const command of COMMANDS) {
    it(`${command}: valid and read back exactly, or ValidationError with nothing written`, async () => {
      const store = new PostgresUserEngineStore({ connection: db, schema: `hostile_${command.toLowerCase()}` });
      await store.migrate();
      const tally = await checkHostileCommand(store, command, 60, 20261202);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.accepted).toBeGreaterThan(0);
    });
  }
});

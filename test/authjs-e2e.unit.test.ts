// Auth.js itself, through @auth/core's Auth() with real Requests, on the
// adapter: an email magic-link sign-in, an OIDC sign-up and later sign-in
// through a local OpenID Connect provider, and 20 racing first sign-ins —
// on the in-memory store and on PGlite. The live server runs the same flows
// in authjs-e2e.int.test.ts.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { InMemoryUserEngineStore, type UserEngineStore } from '../src/index.js';
import { PostgresUserEngineStore } from '../src/postgres/index.js';
import { scratchSchemaName } from '../src/testing/index.js';
import {
  emailMagicLinkFlow,
  type LocalIdp,
  oidcFirstSignInRace,
  oidcSignUpThenSignInFlow,
  startLocalIdp,
} from './support/authjs-flows.js';

let idp: LocalIdp;
const db = new PGlite();
beforeAll(async () => {
  idp = await startLocalIdp();
});
afterAll(async () => {
  await idp.close();
  await db.close();
});

const stores: [string, () => UserEngineStore][] = [
  ['memory', () => new InMemoryUserEngineStore()],
  ['pglite', () => new PostgresUserEngineStore({ connection: db, schema: scratchSchemaName('authjs_e2e') })],
];

for (const [name, open] of stores) {
  describe(`Auth.js end to end [${name}]`, () => {
    it('email magic link: the link signs in once, the session cookie reads the session, sign-out ends it', async () => {
      await emailMagicLinkFlow(open());
    });
    it('OIDC: the first sign-in creates and links the user, a later one signs in to the same user', async () => {
      await oidcSignUpThenSignInFlow(open(), idp);
    });
    it('20 concurrent first sign-ins of one new OIDC identity: one user, one account, no orphan', async () => {
      await oidcFirstSignInRace(open(), idp);
    });
    it('the same 20, held until all found no user (the worst interleaving): one user, one account, no orphan', async () => {
      await oidcFirstSignInRace(open(), idp, { held: true });
    });
  });
}

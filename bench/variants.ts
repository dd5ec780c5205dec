// The user-engine variants (each store through the engine) and the
// hand-written baseline, each seeded with the same number of users.
import type pg from 'pg';
import { InMemoryUserEngineStore, UserEngine, type UserEngineStore } from '../src/index.js';
import { type PostgresConnection, PostgresUserEngineStore } from '../src/postgres/index.js';
import { CountingConnection } from '../src/testing/index.js';
import { baselineOperations } from './baseline-pg.js';
import type { MeasuredOperation, Variant, VariantRole } from './measure.js';

const runTag = Date.now().toString(36);
let counter = 0;
/** A fresh address no earlier run used, so registrations never collide. */
export const nextEmail = (store: string) => `${store}.${runTag}.${counter++}@bench.example.com`;

const ctx = { actor: 'bench' };
const LIST_PAGE = 100;

/** The engine on `store`, seeded with `seedUsers` users. */
export async function engineVariant(
  name: string,
  role: VariantRole,
  store: UserEngineStore,
  seedUsers: number,
  statements: () => number,
  close: () => Promise<void>,
): Promise<Variant> {
  const { engine, ids, emails } = await seededEngine(name, store, seedUsers);
  const operations: MeasuredOperation[] = [
    {
      name: 'registerUser',
      counterpart: 'registerUser',
      run: () => engine.registerUser(ctx, { email: nextEmail(name) }),
    },
    {
      name: 'updateProfile',
      counterpart: 'updateProfile',
      // Worker w only touches users w, w+16, ...: the figures measure the store, not conflicts.
      run: (i, worker) =>
        engine.updateProfile(ctx, ids[(worker + 16 * i) % seedUsers] as string, { displayName: `n${i}` }),
    },
    { name: 'getUser', counterpart: 'getUser', run: (i) => engine.getUser(ids[i % seedUsers] as string) },
    {
      name: 'findUserByEmail',
      counterpart: 'findUserByEmail',
      run: (i) => engine.findUserByEmail(emails[i % seedUsers] as string),
    },
  ];
  return { name, role, operations, statements, close };
}

/**
 * The in-memory store, with `listUsers` measured on a second store that stays
 * at the seeded size: the first one grows by every `registerUser` the run makes.
 */
export async function memoryVariant(seedUsers: number): Promise<Variant> {
  const variant = await engineVariant(
    'memory',
    'engine',
    new InMemoryUserEngineStore(),
    seedUsers,
    () => 0,
    async () => {},
  );
  const { engine } = await seededEngine('memory-list', new InMemoryUserEngineStore(), seedUsers);
  // The cursor each full page starts after: call i reads page i mod pages, always 100 users.
  const starts: (string | undefined)[] = [];
  const page = (after: string | undefined) =>
    engine.listUsers(after === undefined ? { limit: LIST_PAGE } : { after, limit: LIST_PAGE });
  for (let after: string | undefined, n = 0; n < Math.floor(seedUsers / LIST_PAGE); n++) {
    starts.push(after);
    after = (await page(after)).users.at(-1)?.id;
  }
  if (starts.length === 0) throw new Error(`listUsers needs at least ${LIST_PAGE} seeded users`);
  variant.operations.push({
    name: 'listUsers',
    counterpart: 'listUsers',
    run: (i) => page(starts[i % starts.length]),
  });
  return variant;
}

/** The Postgres store on `connection`, with every statement it sends counted on the way. */
export function postgresVariant(
  name: string,
  role: VariantRole,
  connection: PostgresConnection,
  schema: string | undefined,
  seedUsers: number,
  close: () => Promise<void>,
): Promise<Variant> {
  const counting = new CountingConnection(connection);
  const store = new PostgresUserEngineStore({ connection: counting, ...(schema === undefined ? {} : { schema }) });
  return engineVariant(name, role, store, seedUsers, () => counting.total, close);
}

/** The hand-written node-postgres floor (bench/baseline-pg.ts), on tables migrated by the store. */
export async function baselineVariant(pool: pg.Pool, schema: string, seedUsers: number): Promise<Variant> {
  await new PostgresUserEngineStore({ connection: pool, schema }).migrate();
  const ops = baselineOperations(pool, schema);
  let statements = 0;
  const counted =
    <A extends unknown[]>(f: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      statements += 1;
      return f(...args);
    };
  const ids: string[] = [];
  const emails: string[] = [];
  for (let i = 0; i < seedUsers; i++) {
    const id = crypto.randomUUID();
    const email = nextEmail('baseline');
    await ops.registerUser(id, email);
    ids.push(id);
    emails.push(email);
  }
  const register = counted(ops.registerUser);
  const update = counted(ops.updateProfile);
  const get = counted(ops.getUser);
  const find = counted(ops.findUserByEmail);
  return {
    name: 'baseline-pg',
    role: 'baseline',
    statements: () => statements,
    close: async () => {},
    operations: [
      {
        name: 'registerUser',
        counterpart: 'registerUser',
        run: () => register(crypto.randomUUID(), nextEmail('baseline')),
      },
      {
        name: 'updateProfile',
        counterpart: 'updateProfile',
        run: (i, worker) => update(ids[(worker + 16 * i) % seedUsers] as string, `n${i}`),
      },
      { name: 'getUser', counterpart: 'getUser', run: (i) => get(ids[i % seedUsers] as string) },
      { name: 'findUserByEmail', counterpart: 'findUserByEmail', run: (i) => find(emails[i % seedUsers] as string) },
    ],
  };
}

async function seededEngine(name: string, store: UserEngineStore, seedUsers: number) {
  await store.migrate();
  const engine = new UserEngine({ store });
  const ids: string[] = [];
  const emails: string[] = [];
  for (let i = 0; i < seedUsers; i++) {
    const email = nextEmail(name);
    ids.push((await engine.registerUser(ctx, { email })).id);
    emails.push(email);
  }
  return { engine, ids, emails };
}

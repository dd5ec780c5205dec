import { UserEngine } from '../engine/engine.js';
import { UserEngineError, ValidationError } from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import { UserEngineAdapter, type UserEngineAdapterOptions } from './adapter.js';

/**
 * The one call the import makes on a connection: node-postgres' `Pool` and
 * `Client`, PGlite, and `fromPostgresJs(sql)` fit as they are. Written from
 * that call, so no driver is imported.
 */
export interface AuthjsPgQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** What `importFromAuthjsPg` takes besides the connection and the engine. */
export interface AuthjsPgImportOptions extends UserEngineAdapterOptions {
  /** The schema holding `@auth/pg-adapter`'s tables; the connection's search_path by default. */
  schema?: string;
  /** Rows read per statement; 500 by default. */
  batchSize?: number;
  /** The adapter's clock: sessions expired by then are not carried over. */
  clock?: () => Date;
}

/** One row the import did not carry over, by the source's id (never a value), and why. */
export interface AuthjsPgImportSkip {
  table: 'users' | 'accounts' | 'sessions';
  /** The row's id in the source table. */
  id: string;
  /** An error code (`email_taken`, `invalid_input`, …) or `expired`, `no_email`, `no_user`. */
  reason: string;
}

/** What `importFromAuthjsPg` did: counts, and the rows it left behind with the reason. */
export interface AuthjsPgImportReport {
  users: number;
  /** Users already in the store under the same id (a re-run): left as they are. */
  usersAlreadyThere: number;
  accounts: number;
  sessions: number;
  skipped: AuthjsPgImportSkip[];
}

/**
 * Moves users, accounts and sessions from the tables `@auth/pg-adapter`
 * writes (`users`, `accounts`, `sessions`) into user-engine through its
 * Auth.js adapter, so
 * everything lands as the adapter would have written it: users keep their
 * ids (`String(id)`), so your foreign keys and the users' session cookies
 * stay valid; accounts become linked identities with their tokens (sealed
 * when `tokenEncryptionKey` is given); sessions are stored under the hash of
 * their token. Nothing is merged: a user whose address another user already
 * holds in another spelling (the pg adapter compares case-sensitively) is
 * skipped and reported by id, with its accounts and sessions. Verification
 * tokens are left behind: they live minutes, and one used after the import
 * must not come back. Reading only, it never changes the source tables. Run
 * it with the old application stopped; a second run completes what an
 * interrupted one left (users, accounts and sessions already there are left
 * alone — and what was removed from user-engine since comes back from the
 * source). Every value travels as a bind parameter.
 *
 * @example
 * const report = await importFromAuthjsPg(pool, engine, { tokenEncryptionKey: process.env.AUTH_TOKEN_KEY });
 * console.log(report.users, report.skipped);
 */
export async function importFromAuthjsPg(
  source: AuthjsPgQueryable,
  engine: UserEngine,
  options: AuthjsPgImportOptions = {},
): Promise<AuthjsPgImportReport> {
  if (typeof source?.query !== 'function')
    throw new ValidationError('source', 'must have a query(text, params) method');
  const { schema, batchSize = 500, ...adapterOptions } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ValidationError('batchSize', 'must be an integer from 1 to 10000');
  }
  const prefix = schema === undefined ? '' : `${quoteSchema(schema)}.`;
  const actor = adapterOptions.actor ?? 'authjs-import';
  const adapter = UserEngineAdapter(engine, { ...adapterOptions, actor });
  const now = (adapterOptions.clock ?? (() => new Date()))().getTime();
  const report: AuthjsPgImportReport = {
    users: 0,
    usersAlreadyThere: 0,
    accounts: 0,
    sessions: 0,
    skipped: [],
  };
  const skip = (table: AuthjsPgImportSkip['table'], id: unknown, error: unknown) => {
    const reason = typeof error === 'string' ? error : UserEngineError.is(error) ? error.code : 'error';
    if (typeof error !== 'string' && !UserEngineError.is(error)) throw error;
    report.skipped.push({ table, id: String(id), reason });
  };
  // Imported users keep their ids: an engine over the same store whose next id is the source row's.
  let nextId = '';
  const importer = new UserEngine({ store: engine.store, newId: () => nextId, recentUsers: 0 });
  const imported = new Set<string>();

  for await (const row of pages(source, `${prefix}users`, batchSize, 'id, name, email, "emailVerified", image')) {
    const id = String(row.id);
    if ((await engine.getUser(id)) !== null) {
      report.usersAlreadyThere += 1;
      imported.add(id);
      continue;
    }
    if (typeof row.email !== 'string' || row.email === '') {
      skip('users', id, 'no_email');
      continue;
    }
    const attributes: JsonObject = {};
    if (typeof row.image === 'string') attributes.image = row.image;
    try {
      nextId = id;
      await importer.registerUser(
        { actor },
        {
          email: row.email,
          displayName: typeof row.name === 'string' && row.name !== '' ? row.name : null,
          emailVerifiedAt: row.emailVerified == null ? null : toDate(row.emailVerified).toISOString(),
          attributes,
        },
      );
      report.users += 1;
      imported.add(id);
    } catch (error) {
      skip('users', id, error);
    }
  }

  const accountColumns =
    'id, "userId", type, provider, "providerAccountId", refresh_token, access_token, expires_at, id_token, scope, session_state, token_type';
  for await (const row of pages(source, `${prefix}accounts`, batchSize, accountColumns)) {
    const userId = String(row.userId);
    if (!imported.has(userId)) {
      skip('accounts', row.id, 'no_user');
      continue;
    }
    const account: Record<string, unknown> = {
      userId,
      type: row.type,
      provider: row.provider,
      providerAccountId: row.providerAccountId,
    };
    for (const column of ['refresh_token', 'access_token', 'id_token', 'scope', 'session_state', 'token_type']) {
      if (row[column] != null) account[column] = String(row[column]);
    }
    if (row.expires_at != null) account.expires_at = Number(row.expires_at);
    try {
      if ((await adapter.getAccount(String(row.providerAccountId), String(row.provider))) !== null) continue;
      await adapter.linkAccount(account as never);
      report.accounts += 1;
    } catch (error) {
      skip('accounts', row.id, error);
    }
  }

  for await (const row of pages(source, `${prefix}sessions`, batchSize, 'id, "userId", expires, "sessionToken"')) {
    const userId = String(row.userId);
    const expires = toDate(row.expires);
    if (!imported.has(userId)) skip('sessions', row.id, 'no_user');
    else if (expires.getTime() <= now) skip('sessions', row.id, 'expired');
    else {
      try {
        const token = String(row.sessionToken);
        if ((await adapter.getSessionAndUser(token)) !== null) continue;
        await adapter.createSession({ sessionToken: token, userId, expires });
        report.sessions += 1;
      } catch (error) {
        skip('sessions', row.id, error);
      }
    }
  }

  return report;
}

/** Rows of a table by id ascending, `size` per statement (keyset: never OFFSET). */
async function* pages(
  source: AuthjsPgQueryable,
  table: string,
  size: number,
  columns: string,
): AsyncGenerator<Record<string, unknown>> {
  let after: unknown;
  for (;;) {
    const { rows } =
      after === undefined
        ? await source.query(`SELECT ${columns} FROM ${table} ORDER BY id LIMIT $1`, [size])
        : await source.query(`SELECT ${columns} FROM ${table} WHERE id > $2 ORDER BY id LIMIT $1`, [size, after]);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < size || last === undefined) return;
    after = last.id;
  }
}

function quoteSchema(schema: string): string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ValidationError('schema', 'must be 1 to 63 of a-z, 0-9 and _, not starting with a digit');
  }
  return `"${schema}"`;
}

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new ValidationError('expires', 'is not a timestamp');
  return date;
}

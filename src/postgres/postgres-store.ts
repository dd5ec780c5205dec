import {
  type ClaimToken,
  type DeliveryState,
  type DeliveryStats,
  normalizeClaimRequest,
  normalizeClaims,
  normalizeCutoff,
  normalizeDeliveryQuery,
  normalizeFailure,
  normalizeSeqs,
  type OutboxDelivery,
} from '../store/delivery.js';
import {
  conflictKeyOf,
  conflictOnKey,
  SchemaNotReadyError,
  StoreUnavailableError,
  UserEngineError,
  ValidationError,
  VersionConflictError,
} from '../store/errors.js';
import { parseJsonObject } from '../store/json.js';
import {
  normalizeAuditQuery,
  normalizeIndexLookup,
  normalizeOutboxQuery,
  normalizeRecordPage,
} from '../store/queries.js';
import {
  assertId,
  assertKind,
  deserializeRecord,
  normalizeInteger,
  normalizeTimestamp,
  type StoreRecord,
} from '../store/record.js';
import { planRekey, type RekeyStep } from '../store/rekey.js';
import {
  type AppliedSchemaVersion,
  assessReadiness,
  type MigrationReport,
  notReadyError,
  planMigration,
  SCHEMA_VERSIONS,
  type SchemaReadiness,
  type SchemaVersion,
} from '../store/schema.js';
import type {
  AuditEntry,
  AuditQuery,
  IndexedPair,
  OutboxMessage,
  OutboxQuery,
  RecordCounts,
  RecordPage,
  StoreTransaction,
  UserEngineStore,
} from '../store/store.js';
import { type CommitBatch, hasEffects, UnitOfWork } from '../store/unit-of-work.js';
import { applyCommitStatement } from './commit/apply-commit.js';
import type { CommitStatement } from './commit/commit-statement.js';
import { type WriteBatchShape, writeBatchSql, writeBatchStatement } from './commit/write-batch.js';
import type { PostgresConnection } from './connection.js';
import { CONFLICT_SQLSTATE, conflictPosition, mapPostgresError, sqlStateOf } from './error-mapper.js';
import { readRekeyRecordsSql } from './migrations/004-email-keys.js';
import { migrationScript, migrationsFor, type PostgresMigration } from './migrations/index.js';
import { type SchemaName, schemaName } from './schema-name.js';
import { countRecordsSql } from './sql/count-records.js';
import { listRecordsParams, listRecordsSql } from './sql/list-records.js';
import {
  acknowledgeSql,
  claimSql,
  deliveryStatsSql,
  failSql,
  inspectSql,
  pruneSql,
  releaseSql,
  replaySql,
} from './sql/outbox-delivery.js';
import { readAppliedVersionsSql } from './sql/read-applied-versions.js';
import { readAuditParams, readAuditSql } from './sql/read-audit.js';
import { indexHalf, readIndexedPairParams, readIndexedPairSql } from './sql/read-indexed-pair.js';
import { readIndexedRecordParams, readIndexedRecordSql } from './sql/read-indexed-record.js';
import { readPendingOutboxParams, readPendingOutboxSql } from './sql/read-pending-outbox.js';
import { readRecordParams, readRecordSql } from './sql/read-record.js';

/** What `new PostgresUserEngineStore(options)` takes: a connection, and optionally a schema name. */
export interface PostgresStoreOptions {
  /** A node-postgres Pool or Client, a PGlite instance, `fromPostgresJs(sql)`, or anything of that shape. */
  connection: PostgresConnection;
  /** The schema holding the store's tables; `user_engine` by default. Created by `migrate()`. */
  schema?: string;
  /** The schema versions this code knows; `SCHEMA_VERSIONS` by default. For tests of rolling deploys. */
  schemaVersions?: readonly SchemaVersion[];
  /**
   * Which statement carries a commit. `'auto'` (the default) sends small
   * write-only commits as a generated write-batch statement and the rest
   * through `apply_commit`; the other values force one path wherever it can
   * carry the commit, for tests and diagnostics. Every path obeys the same
   * rules, so this changes speed, never behaviour.
   */
  commitPath?: CommitPath;
  /**
   * A time limit for each call to the database, in milliseconds: a call that
   * has no answer by then fails as `store_unavailable`, so nothing waits
   * forever on a server that stopped answering. Connections from
   * `fromNodePostgres` and `fromPostgresJs` also free the connection the
   * statement ran on. No limit by default. Migration scripts are not limited.
   *
   * @example new PostgresUserEngineStore({ connection: fromNodePostgres(pool), timeoutMs: 5_000 })
   */
  timeoutMs?: number;
}

/** See `PostgresStoreOptions.commitPath`. */
export type CommitPath = 'auto' | 'write-batch' | 'apply-commit';

/**
 * The largest batch `'auto'` sends as a generated write-batch statement. Each
 * distinct shape is one more prepared statement per connection; bigger
 * batches share the one `apply_commit` text instead, which keeps the number
 * of shapes small. Both paths obey the same rules: the limit changes which
 * statement carries a commit, never what the commit means.
 */
const WRITE_BATCH_LIMITS = { writes: 8, audit: 4, outbox: 4 } as const;

/** Every statement the store sends, built once per store from the validated schema name. */
interface Statements {
  readAppliedVersions: string;
  readRecord: string;
  readIndexedRecord: string;
  readIndexedPair: string;
  listRecords: string;
  readAudit: string;
  readPendingOutbox: string;
  countRecords: string;
  claim: string;
  acknowledge: string;
  fail: string;
  release: string;
  inspect: string;
  replay: string;
  prune: string;
  deliveryStats: string;
}

/**
 * The Postgres store. It runs on a connection the application supplies and
 * never opens, configures or closes it. Reads are single statements; a
 * transaction's whole commit is one more (a generated write-batch statement
 * or an `apply_commit` call, which obey one rule: docs/durable-store.md), so
 * no database transaction is open while application code awaits, and one
 * shared client (or PGlite) is safe under concurrent calls. A commit sent on
 * a connection that is inside the application's own transaction joins that
 * transaction.
 *
 * @example
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = new PostgresUserEngineStore({ connection: pool, schema: 'accounts' });
 * await store.migrate();
 */
export class PostgresUserEngineStore implements UserEngineStore {
  readonly adapter = 'postgres';
  /** The schema holding the store's tables, as validated. */
  readonly schema: string;
  readonly #connection: PostgresConnection;
  readonly #schema: SchemaName;
  readonly #versions: readonly SchemaVersion[];
  readonly #migrations: Map<number, PostgresMigration>;
  readonly #sql: Statements;
  readonly #commitPath: CommitPath;
  readonly #timeoutMs: number | undefined;
  /** Write-batch statement texts by shape: a handful per store, each prepared once per connection. */
  readonly #writeBatchTexts = new Map<string, string>();
  /** Set once the schema was seen ready; data calls then skip the readiness round trip. */
  #ready = false;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    const connection = options?.connection;
    if (typeof connection?.query !== 'function') {
      throw new ValidationError('connection', 'must have a query(text, params) method');
    }
    this.#connection = connection;
    this.#schema = schemaName(options.schema ?? 'user_engine');
    this.schema = this.#schema.name;
    this.#versions = options.schemaVersions ?? SCHEMA_VERSIONS;
    this.#migrations = migrationsFor(this.#versions);
    this.#commitPath = options.commitPath ?? 'auto';
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)) {
      throw new ValidationError('timeoutMs', 'must be a positive whole number of milliseconds');
    }
    this.#timeoutMs = timeoutMs;
    const s = this.#schema;
    this.#sql = {
      readAppliedVersions: readAppliedVersionsSql(s),
      readRecord: readRecordSql(s),
      readIndexedRecord: readIndexedRecordSql(s),
      readIndexedPair: readIndexedPairSql(s),
      listRecords: listRecordsSql(s),
      readAudit: readAuditSql(s),
      readPendingOutbox: readPendingOutboxSql(s),
      countRecords: countRecordsSql(s),
      claim: claimSql(s),
      acknowledge: acknowledgeSql(s),
      fail: failSql(s),
      release: releaseSql(s),
      inspect: inspectSql(s),
      replay: replaySql(s),
      prune: pruneSql(s),
      deliveryStats: deliveryStatsSql(s),
    };
  }

  async readiness(): Promise<SchemaReadiness> {
    return assessReadiness(await this.#appliedVersions(), this.#versions);
  }

  async migrate(): Promise<MigrationReport> {
    this.#ready = false;
    const plan = planMigration(await this.#appliedVersions(), this.#versions);
    const applied: number[] = [];
    for (const version of plan) {
      const migration = this.#migrations.get(version.version);
      if (migration === undefined) {
        throw new SchemaNotReadyError(`no Postgres migration for schema version ${version.version}`);
      }
      const done =
        version.rekey !== undefined
          ? await this.#applyRekey(migration, version, version.rekey)
          : await this.#applyMigration(migration, version);
      if (done) applied.push(version.version);
    }
    const readiness = await this.readiness();
    if (readiness.problems.length > 0) throw notReadyError(readiness);
    return { applied, currentVersion: readiness.currentVersion };
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    await this.#ensureReady();
    const unit = new UnitOfWork((kind, id) => this.#readRecord(kind, id));
    let result: T;
    try {
      result = await work(unit);
    } catch (error) {
      unit.abandon();
      throw error;
    }
    const batch = unit.finish();
    if (!hasEffects(batch)) return result;
    await this.#commit(batch);
    return result;
  }

  /** One statement, whichever path carries it; a conflict comes back as a position (an answer) or as UE409 (a race). */
  async #commit(batch: CommitBatch): Promise<void> {
    const statement = this.#commitStatement(batch);
    let rows: Record<string, unknown>[];
    try {
      rows = await this.#query(statement.text, statement.params, 'commit', statement.keys);
    } catch (error) {
      if (error instanceof VersionConflictError) throw await this.#withTransactionState(error);
      throw error;
    }
    const failed = normalizeInteger(rows[0]?.failed, 'failed');
    if (failed !== 0) throw conflictAt(statement.keys, failed);
  }

  /**
   * A conflict the server *raised* (a commit that landed mid-statement;
   * 40001, 40P01) aborts the transaction the statement ran in. On a pool that
   * is the statement's own; on a connection inside the application's
   * transaction it is the application's. One probe tells which (25P02 means
   * aborted), so the caller learns it must roll back, and the engine does not
   * retry on a dead transaction. Answered conflicts never get here.
   */
  async #withTransactionState(conflict: VersionConflictError): Promise<VersionConflictError> {
    try {
      await this.#connection.query('SELECT 1');
      return conflict;
    } catch (probe) {
      if (sqlStateOf(probe) !== '25P02') return conflict;
      const key = conflictKeyOf(conflict);
      const options = { cause: conflict.cause, transactionAborted: true };
      return key === null ? new VersionConflictError(conflict.kind, undefined, options) : conflictOnKey(key, options);
    }
  }

  /**
   * The write-batch statement for a write-only commit (under `'auto'`, a
   * small one), `apply_commit` for everything else: the only path that can
   * hold read-only checks until the commit ends.
   */
  #commitStatement(batch: CommitBatch): CommitStatement {
    const small =
      batch.writes.length <= WRITE_BATCH_LIMITS.writes &&
      batch.audit.length <= WRITE_BATCH_LIMITS.audit &&
      batch.outbox.length <= WRITE_BATCH_LIMITS.outbox;
    const path = this.#commitPath === 'auto' ? (small ? 'write-batch' : 'apply-commit') : this.#commitPath;
    if (batch.checks.length === 0 && path === 'write-batch') {
      return writeBatchStatement(batch, (shape) => this.#writeBatchSql(shape));
    }
    return applyCommitStatement(this.#schema, batch);
  }

  #writeBatchSql(shape: WriteBatchShape): string {
    const cacheKey = `${shape.ops}/${shape.audit}/${shape.outbox}`;
    let text = this.#writeBatchTexts.get(cacheKey);
    if (text === undefined) {
      text = writeBatchSql(this.#schema, shape);
      this.#writeBatchTexts.set(cacheKey, text);
    }
    return text;
  }

  async getRecord(kind: string, id: string): Promise<StoreRecord | null> {
    assertKind(kind);
    assertId(id);
    await this.#ensureReady();
    return this.#readRecord(kind, id);
  }

  async getIndexedRecord(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<StoreRecord | null> {
    const lookup = normalizeIndexLookup(index, target);
    await this.#ensureReady();
    const rows = await this.#query(
      this.#sql.readIndexedRecord,
      readIndexedRecordParams(lookup.index, lookup.target),
      'getIndexedRecord',
    );
    const row = rows[0];
    return row === undefined ? null : recordFromRow(row);
  }

  async getIndexedPair(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<IndexedPair | null> {
    const lookup = normalizeIndexLookup(index, target);
    await this.#ensureReady();
    const rows = await this.#query(
      this.#sql.readIndexedPair,
      readIndexedPairParams(lookup.index, lookup.target),
      'getIndexedPair',
    );
    const row = rows[0];
    return row === undefined ? null : { index: recordFromRow(indexHalf(row)), target: recordFromRow(row) };
  }

  async listRecords(kind: string, page?: RecordPage): Promise<StoreRecord[]> {
    const q = normalizeRecordPage(kind, page);
    await this.#ensureReady();
    const rows = await this.#query(this.#sql.listRecords, listRecordsParams(q.kind, q.after, q.limit), 'listRecords');
    return rows.map((row) => recordFromRow(row));
  }

  async readAudit(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = normalizeAuditQuery(query);
    await this.#ensureReady();
    const rows = await this.#query(this.#sql.readAudit, readAuditParams(q.afterSeq, q.recordKey, q.limit), 'readAudit');
    return rows.map((row) =>
      fromRow('audit', () => ({
        seq: normalizeInteger(row.seq, 'seq'),
        id: String(row.id),
        at: normalizeTimestamp(row.at, 'at'),
        actor: String(row.actor),
        action: String(row.action),
        recordKey: row.record_key === null ? null : String(row.record_key),
        detail: parseJsonObject(row.detail, 'detail'),
      })),
    );
  }

  async pendingOutbox(query?: OutboxQuery): Promise<OutboxMessage[]> {
    const q = normalizeOutboxQuery(query);
    await this.#ensureReady();
    const rows = await this.#query(
      this.#sql.readPendingOutbox,
      readPendingOutboxParams(q.afterSeq, q.limit),
      'pendingOutbox',
    );
    return rows.map((row) => fromRow('outbox', () => outboxMessageFromRow(row)));
  }

  async recordCounts(): Promise<RecordCounts> {
    await this.#ensureReady();
    const rows = await this.#query(this.#sql.countRecords, [], 'recordCounts');
    const counts: RecordCounts = { records: {}, audit: 0, outboxPending: 0 };
    const kinds: [string, number][] = [];
    for (const row of rows) {
      const name = String(row.name);
      const n = fromRow('counts', () => normalizeInteger(row.n, 'count'));
      if (name === '#audit') counts.audit = n;
      else if (name === '#outbox') counts.outboxPending = n;
      else if (n > 0) kinds.push([name, n]);
    }
    kinds.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [kind, n] of kinds) counts.records[kind] = n;
    return counts;
  }

  /** Outbox delivery on the `outbox_delivery` table (schema version 5); times are the server's. */
  readonly delivery: OutboxDelivery = {
    claim: async (request) => {
      const { relay, limit, leaseMs } = normalizeClaimRequest(request);
      await this.#ensureReady();
      const rows = await this.#query(this.#sql.claim, [relay, limit, leaseMs], 'claim');
      return rows.map((row) =>
        fromRow('outbox', () => ({
          ...outboxMessageFromRow(row),
          attempt: normalizeInteger(row.attempts, 'attempts'),
          claim: String(row.claim),
        })),
      );
    },
    acknowledge: async (claims) => {
      const tokens = normalizeClaims(claims);
      if (tokens.length === 0) return 0;
      await this.#ensureReady();
      const rows = await this.#query(this.#sql.acknowledge, claimArrays(tokens), 'acknowledge');
      return rows.length;
    },
    fail: async (claim, failure) => {
      const [token] = normalizeClaims([claim]) as [ClaimToken];
      const f = normalizeFailure(failure);
      await this.#ensureReady();
      const rows = await this.#query(
        this.#sql.fail,
        [token.seq, token.claim, f.maxAttempts, f.retryInMs, f.error],
        'fail',
      );
      const state = rows[0]?.state;
      return state === undefined ? 'not_held' : state === 'dead' ? 'dead' : 'retry';
    },
    release: async (claims) => {
      const tokens = normalizeClaims(claims);
      if (tokens.length === 0) return 0;
      await this.#ensureReady();
      return (await this.#query(this.#sql.release, claimArrays(tokens), 'release')).length;
    },
    inspect: async (query) => {
      const q = normalizeDeliveryQuery(query);
      await this.#ensureReady();
      const rows = await this.#query(this.#sql.inspect, [q.state, q.afterSeq, q.limit], 'inspect');
      return rows.map((row) =>
        fromRow('outbox_delivery', () => ({
          seq: normalizeInteger(row.seq, 'seq'),
          id: String(row.id),
          topic: String(row.topic),
          key: String(row.key),
          state: q.state,
          attempts: normalizeInteger(row.attempts, 'attempts'),
          lastError: row.last_error == null ? null : String(row.last_error),
          createdAt: normalizeTimestamp(row.created_at, 'createdAt'),
          settledAt: row.settled_at == null ? null : normalizeTimestamp(row.settled_at, 'settledAt'),
        })),
      );
    },
    replay: async (seqs) => {
      const checked = normalizeSeqs(seqs);
      if (checked.length === 0) return 0;
      await this.#ensureReady();
      return (await this.#query(this.#sql.replay, [checked], 'replay')).length;
    },
    prune: async (request) => {
      const cutoff = normalizeCutoff(request);
      await this.#ensureReady();
      const rows = await this.#query(this.#sql.prune, [cutoff], 'prune');
      return fromRow('prune', () => normalizeInteger(rows[0]?.n ?? 0, 'n'));
    },
    stats: async () => {
      await this.#ensureReady();
      const rows = await this.#query(this.#sql.deliveryStats, [], 'stats');
      const stats: DeliveryStats = { pending: 0, claimed: 0, delivered: 0, dead: 0, oldestUndeliveredAt: null };
      for (const row of rows) {
        const name = String(row.name);
        if (name === '#oldest') {
          stats.oldestUndeliveredAt = row.at == null ? null : normalizeTimestamp(row.at, 'at');
        } else if (name in stats && name !== 'oldestUndeliveredAt') {
          stats[name as DeliveryState] = fromRow('stats', () => normalizeInteger(row.n, 'count'));
        }
      }
      return stats;
    },
  };

  /** The store opened nothing, so it closes nothing: the connection stays the application's. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async #readRecord(kind: string, id: string): Promise<StoreRecord | null> {
    const rows = await this.#query(this.#sql.readRecord, readRecordParams(kind, id), 'getRecord');
    const row = rows[0];
    return row === undefined ? null : recordFromRow(row);
  }

  async #appliedVersions(): Promise<AppliedSchemaVersion[]> {
    let rows: Record<string, unknown>[];
    try {
      rows = await this.#query(this.#sql.readAppliedVersions, [], 'readiness');
    } catch (error) {
      // No schema or no migrations table yet: a database at version 0.
      if (UserEngineError.is(error, 'schema_not_ready')) return [];
      throw error;
    }
    return rows.map((row) =>
      fromRow('schema_migrations', () => ({
        version: normalizeInteger(row.version, 'version'),
        name: String(row.name),
        checksum: String(row.checksum),
        breaking: row.breaking === true || row.breaking === 't',
      })),
    );
  }

  /** Applies one version; false when another migrator got there first (its version row already existed). */
  async #applyMigration(migration: PostgresMigration, version: SchemaVersion): Promise<boolean> {
    this.#assertOpen();
    const script = migrationScript(this.#schema, migration, version);
    try {
      if (this.#connection.exec !== undefined) await this.#connection.exec(script);
      else await this.#connection.query(script);
      return true;
    } catch (error) {
      const mapped = mapPostgresError(error, `migrate to version ${version.version}`);
      if (mapped.code === 'version_conflict') return false;
      throw mapped;
    }
  }

  /**
   * Applies a re-keying version (`migrations/004-email-keys.ts`): plan from
   * the records as they are, then one statement that moves exactly those and
   * records the version. If the records changed in between, the statement
   * raises and nothing is applied; plan again. False when another migrator
   * recorded the version first.
   */
  async #applyRekey(migration: PostgresMigration, version: SchemaVersion, step: RekeyStep): Promise<boolean> {
    const operation = `migrate to version ${version.version}`;
    const text = migration.sql.replaceAll('__SCHEMA__', this.#schema.quoted);
    for (let attempt = 1; ; attempt++) {
      const rows = await this.#query(readRekeyRecordsSql(this.#schema.quoted), [step.kind, step.ownerField], operation);
      const records = rows.map((row) => ({ id: String(row.id), owner: row.owner == null ? null : String(row.owner) }));
      const { moves } = planRekey(step, version.version, records);
      const params = [
        `user-engine:migrate:${this.#schema.name}`,
        version.version,
        version.name,
        version.checksum,
        version.breaking,
        step.kind,
        moves.map(([from]) => from),
        moves.map(([, to]) => to),
        records.length,
      ];
      try {
        await this.#connection.query(text, params);
        return true;
      } catch (error) {
        const sqlState = sqlStateOf(error);
        // 23505 on the version row: another migrator applied this version.
        if (sqlState === '23505') return false;
        // UE409: the records changed since the plan.
        if (sqlState !== CONFLICT_SQLSTATE || attempt >= 5) throw mapPostgresError(error, operation);
      }
    }
  }

  async #ensureReady(): Promise<void> {
    this.#assertOpen();
    if (this.#ready) return;
    const readiness = await this.readiness();
    if (!readiness.ready) throw notReadyError(readiness);
    this.#ready = true;
  }

  /** One statement. `conflictKeys` names the key when a commit statement raised a conflict (UE409). */
  async #query(
    text: string,
    params: unknown[],
    operation: string,
    conflictKeys?: readonly string[],
  ): Promise<Record<string, unknown>[]> {
    this.#assertOpen();
    try {
      const result = await (this.#timeoutMs === undefined
        ? this.#connection.query(text, params)
        : this.#withDeadline(text, params, this.#timeoutMs, operation));
      return result.rows;
    } catch (error) {
      const position = conflictKeys === undefined ? null : conflictPosition(error);
      if (position !== null && conflictKeys !== undefined) throw conflictAt(conflictKeys, position, error);
      const mapped = mapPostgresError(error, operation);
      if (mapped.code === 'schema_not_ready') this.#ready = false;
      throw mapped;
    }
  }

  /** One statement under the store's time limit: the connection's own when it has one, and a timer either way. */
  #withDeadline(
    text: string,
    params: unknown[],
    timeoutMs: number,
    operation: string,
  ): Promise<{ rows: Record<string, unknown>[] }> {
    const call =
      this.#connection.queryWithTimeout === undefined
        ? this.#connection.query(text, params)
        : this.#connection.queryWithTimeout(text, params, timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new StoreUnavailableError(
            `Postgres did not answer within ${timeoutMs} ms during ${operation}: the server may be down, paused or unreachable, or the statement blocked; behind a transaction-mode pooler such as PgBouncer, turn named prepared statements off (prepare: false) and, with postgres.js, pipelining too (max_pipeline: 0)`,
          ),
        );
      }, timeoutMs);
    });
    // Whichever settles second is ignored; a late rejection must not go unhandled.
    call.catch(() => {});
    return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('this store was closed');
  }
}

function conflictAt(keys: readonly string[], position: number, cause?: unknown): VersionConflictError {
  const key = keys[position - 1];
  return key === undefined ? new VersionConflictError(null, undefined, { cause }) : conflictOnKey(key, { cause });
}

/** A row that does not parse is a store fault, reported as such, never as the caller's bad input. */
function fromRow<T>(table: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    // One way to get a row of the wrong shape: named prepared statements behind a transaction-mode
    // pooler, where another client's statement of the same name answers. Say so.
    throw new StoreUnavailableError(
      `store returned a malformed ${table} row (${(cause as Error).message}); if the connection goes through a transaction-mode pooler such as PgBouncer, turn named prepared statements off (prepare: false)`,
      { cause },
    );
  }
}

/** An outbox message from a row the store selected. */
function outboxMessageFromRow(row: Record<string, unknown>): OutboxMessage {
  return {
    seq: normalizeInteger(row.seq, 'seq'),
    id: String(row.id),
    topic: String(row.topic),
    key: String(row.key),
    payload: parseJsonObject(row.payload, 'payload'),
    createdAt: normalizeTimestamp(row.created_at, 'createdAt'),
  };
}

/** Claim tokens as the two parallel arrays the delivery statements take. */
function claimArrays(tokens: readonly ClaimToken[]): unknown[] {
  return [tokens.map((t) => t.seq), tokens.map((t) => t.claim)];
}

/** A record from a row the store selected, or a store fault that says what may have caused it. */
function recordFromRow(row: Record<string, unknown>): StoreRecord {
  return fromRow('record', () => deserializeRecord(row as never));
}

import { applyCommitSql, decodeApplyCommit } from '../postgres/commit/apply-commit.js';
import {
  decodeWriteBatch,
  parseWriteBatchHeader,
  type WriteBatchShape,
  writeBatchSql,
} from '../postgres/commit/write-batch.js';
import type { PostgresConnection } from '../postgres/connection.js';
import { readRekeyRecordsSql } from '../postgres/migrations/004-email-keys.js';
import { migrationScript, POSTGRES_MIGRATIONS } from '../postgres/migrations/index.js';
import { type SchemaName, schemaName } from '../postgres/schema-name.js';
import { countRecordsSql } from '../postgres/sql/count-records.js';
import { listRecordsSql } from '../postgres/sql/list-records.js';
import {
  acknowledgeSql,
  claimSql,
  deliveryStatsSql,
  failSql,
  inspectSql,
  pruneSql,
  releaseSql,
  replaySql,
} from '../postgres/sql/outbox-delivery.js';
import { readAppliedVersionsSql } from '../postgres/sql/read-applied-versions.js';
import { readAuditSql } from '../postgres/sql/read-audit.js';
import { readIndexedPairSql } from '../postgres/sql/read-indexed-pair.js';
import { readIndexedRecordSql } from '../postgres/sql/read-indexed-record.js';
import { readPendingOutboxSql } from '../postgres/sql/read-pending-outbox.js';
import { readRecordSql } from '../postgres/sql/read-record.js';
import type { ClaimToken, DeliveryState } from '../store/delivery.js';
import { MemoryTables } from '../store/memory-tables.js';
import { type AppliedSchemaVersion, SCHEMA_VERSIONS } from '../store/schema.js';
import type { CommitBatch } from '../store/unit-of-work.js';

/** One statement the store sent, as the fake received it. */
export interface RecordedStatement {
  /** `query` for a parameterized statement, `exec` for a script. */
  via: 'query' | 'exec';
  text: string;
  params: unknown[];
}

/** An error shaped like node-postgres': a SQLSTATE `code` and a message. */
export class FakePostgresError extends Error {
  /** The SQLSTATE, as node-postgres reports it. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'FakePostgresError';
  }
}

type Rows = Record<string, unknown>[];
type Handler = (params: unknown[]) => Rows;

/**
 * A stand-in for a Postgres connection that answers exactly the statements
 * `PostgresUserEngineStore` sends for one schema — any other statement is an
 * error — and keeps its tables in memory. It returns rows the way
 * node-postgres does for those statements (bigint as string, JSON and
 * timestamps as the text the statements select),
 * records every statement with its parameters, and can be told to fail the
 * Nth statement or to drop the connection, for failure-injection tests that
 * need no server.
 *
 * @example
 * const connection = new FakePostgresConnection();
 * const store = new PostgresUserEngineStore({ connection });
 * await store.migrate();
 * connection.failStatement(1); // the next statement fails as a lost connection
 */
export class FakePostgresConnection implements PostgresConnection {
  /** Every statement and script received since the last `clearStatements()`, in order. */
  readonly statements: RecordedStatement[] = [];
  readonly #tables = new MemoryTables();
  readonly #schema: SchemaName;
  readonly #handlers = new Map<string, Handler>();
  readonly #scripts = new Map<string, AppliedSchemaVersion>();
  readonly #failures = new Map<number, { error: unknown; afterApply: boolean }>();
  #schemaCreated = false;
  #dropped = false;

  constructor(options: { schema?: string } = {}) {
    this.#schema = schemaName(options.schema ?? 'user_engine');
    const s = this.#schema;
    this.#handlers.set(readAppliedVersionsSql(s), () => this.#readAppliedVersions());
    this.#handlers.set(readRecordSql(s), ([kind, id]) => this.#readRecord(String(kind), String(id)));
    this.#handlers.set(readIndexedRecordSql(s), ([kind, id, targetKind, field]) =>
      this.#readIndexedRecord(String(kind), String(id), String(targetKind), String(field)),
    );
    this.#handlers.set(readIndexedPairSql(s), ([kind, id, targetKind, field]) =>
      this.#readIndexedPair(String(kind), String(id), String(targetKind), String(field)),
    );
    this.#handlers.set(listRecordsSql(s), ([kind, after, limit]) =>
      this.#listRecords(String(kind), String(after), Number(limit)),
    );
    this.#handlers.set(readAuditSql(s), ([afterSeq, recordKey, limit]) =>
      this.#readAudit(Number(afterSeq), recordKey === null ? null : String(recordKey), Number(limit)),
    );
    this.#handlers.set(readPendingOutboxSql(s), ([afterSeq, limit]) =>
      this.#readPendingOutbox(Number(afterSeq), Number(limit)),
    );
    this.#handlers.set(countRecordsSql(s), () => this.#countRecords());
    this.#deliveryHandlers(s);
    this.#handlers.set(applyCommitSql(s), (params) => this.#applyCommit(params));
    for (const version of SCHEMA_VERSIONS) {
      const migration = POSTGRES_MIGRATIONS.find((m) => m.version === version.version);
      if (migration === undefined) continue;
      const row = {
        version: version.version,
        name: version.name,
        checksum: version.checksum,
        breaking: version.breaking,
      };
      if (migration.rekey === true) {
        this.#handlers.set(migration.sql.replaceAll('__SCHEMA__', s.quoted), (params) => this.#rekey(params));
      } else {
        this.#scripts.set(migrationScript(s, migration, version), row);
      }
    }
    this.#handlers.set(readRekeyRecordsSql(s.quoted), ([kind, field]) =>
      this.#readRekeyRecords(String(kind), String(field)),
    );
  }

  /** Forgets the statements recorded so far, so a test can count from here. */
  clearStatements(): void {
    this.statements.length = 0;
  }

  /**
   * Makes the `n`th statement from now (1 = the next) fail with `error` (by
   * default a lost connection, 08006). With `afterApply`, the statement takes
   * effect first and only its answer is lost — the ambiguous failure a
   * client sees when a connection drops during a commit.
   */
  failStatement(
    n: number,
    error: unknown = new FakePostgresError('08006', 'connection failure (injected)'),
    options: { afterApply?: boolean } = {},
  ): void {
    this.#failures.set(this.statements.length + n, { error, afterApply: options.afterApply === true });
  }

  /** Forgets injected failures that have not fired yet. */
  clearFailures(): void {
    this.#failures.clear();
  }

  /** Every statement fails as a reset connection until `reconnect()`. */
  dropConnection(): void {
    this.#dropped = true;
  }

  /** Ends `dropConnection()`: statements are answered again. */
  reconnect(): void {
    this.#dropped = false;
  }

  /** Writes a schema_migrations row directly, as another deploy or a hand edit would. */
  writeAppliedSchemaVersion(row: AppliedSchemaVersion): void {
    this.#tables.writeAppliedSchemaVersion(row);
  }

  async query(text: string, params: unknown[] = []): Promise<{ rows: Rows }> {
    const lostAnswer = this.#receive('query', text, params);
    const rows = this.#answer(text, params);
    if (lostAnswer !== undefined) throw lostAnswer;
    return { rows };
  }

  async exec(script: string): Promise<unknown> {
    const lostAnswer = this.#receive('exec', script, []);
    if (!this.#scripts.has(script)) {
      throw new FakePostgresError('42601', `FakePostgresConnection does not know this script: ${script.slice(0, 80)}`);
    }
    this.#runScript(script);
    if (lostAnswer !== undefined) throw lostAnswer;
    return [];
  }

  #answer(text: string, params: unknown[]): Rows {
    const handler = this.#handlers.get(text);
    if (handler !== undefined) return handler(params);
    if (params.length === 0 && this.#scripts.has(text)) {
      this.#runScript(text);
      return [];
    }
    const shape = parseWriteBatchHeader(text);
    if (shape !== null && text === writeBatchSql(this.#schema, shape)) return this.#writeBatch(shape, params);
    throw new FakePostgresError('42601', `FakePostgresConnection does not know this statement: ${text.slice(0, 80)}`);
  }

  /** Records a statement; throws an injected failure that strikes before it runs, returns one that strikes after. */
  #receive(via: 'query' | 'exec', text: string, params: unknown[]): unknown {
    this.statements.push({ via, text, params: [...params] });
    if (this.#dropped) {
      throw Object.assign(new Error('Connection terminated unexpectedly (injected)'), { code: 'ECONNRESET' });
    }
    const injected = this.#failures.get(this.statements.length);
    if (injected === undefined) return undefined;
    this.#failures.delete(this.statements.length);
    if (!injected.afterApply) throw injected.error;
    return injected.error;
  }

  /** A migration script: version row first (a duplicate fails as 23505, like the primary key), then its objects. */
  #runScript(script: string): void {
    const version = this.#scripts.get(script) as AppliedSchemaVersion;
    if (this.#tables.schemaVersions.some((v) => v.version === version.version)) {
      throw new FakePostgresError('23505', 'duplicate key value violates unique constraint "schema_migrations_pkey"');
    }
    this.#schemaCreated = true;
    this.#tables.writeAppliedSchemaVersion(version);
  }

  #requireTables(needsVersion: number): void {
    if (!this.#schemaCreated) throw new FakePostgresError('3F000', `schema ${this.#schema.quoted} does not exist`);
    if (!this.#tables.schemaVersions.some((v) => v.version === needsVersion)) {
      const code = needsVersion === 2 ? '42883' : '42P01';
      throw new FakePostgresError(code, `object of schema version ${needsVersion} does not exist`);
    }
  }

  #readAppliedVersions(): Rows {
    if (!this.#schemaCreated) throw new FakePostgresError('42P01', 'relation "schema_migrations" does not exist');
    return [...this.#tables.schemaVersions]
      .sort((a, b) => a.version - b.version)
      .map((v) => ({ version: v.version, name: v.name, checksum: v.checksum, breaking: v.breaking }));
  }

  #recordRow(kind: string, id: string): Rows[number] | undefined {
    const row = this.#tables.records.get(kind)?.get(id);
    if (row === undefined) return undefined;
    return {
      kind: row.kind,
      id: row.id,
      version: row.version,
      data: row.data,
      created_at: row.createdAt,
      updated_at: row.updatedAt,
    };
  }

  #readRecord(kind: string, id: string): Rows {
    this.#requireTables(1);
    const row = this.#recordRow(kind, id);
    return row === undefined ? [] : [row];
  }

  #readIndexedRecord(kind: string, id: string, targetKind: string, field: string): Rows {
    this.#requireTables(1);
    const index = this.#tables.records.get(kind)?.get(id);
    if (index === undefined) return [];
    const pointer = (JSON.parse(index.data) as Record<string, unknown>)[field];
    if (typeof pointer !== 'string') return [];
    const row = this.#recordRow(targetKind, pointer);
    return row === undefined ? [] : [row];
  }

  #readIndexedPair(kind: string, id: string, targetKind: string, field: string): Rows {
    const [target] = this.#readIndexedRecord(kind, id, targetKind, field);
    const index = this.#recordRow(kind, id);
    if (target === undefined || index === undefined) return [];
    const prefixed = Object.fromEntries(Object.entries(index).map(([column, value]) => [`index_${column}`, value]));
    return [{ ...target, ...prefixed }];
  }

  #listRecords(kind: string, after: string, limit: number): Rows {
    this.#requireTables(1);
    return this.#tables.page(kind, after, limit).map((row) => this.#recordRow(kind, row.id) as Rows[number]);
  }

  #readAudit(afterSeq: number, recordKey: string | null, limit: number): Rows {
    this.#requireTables(1);
    return this.#tables.audit
      .filter((e) => e.seq > afterSeq && (recordKey === null || e.recordKey === recordKey))
      .slice(0, limit)
      .map((e) => ({
        seq: String(e.seq),
        id: e.id,
        at: e.at,
        actor: e.actor,
        action: e.action,
        record_key: e.recordKey,
        detail: e.detail,
      }));
  }

  #readPendingOutbox(afterSeq: number, limit: number): Rows {
    this.#requireTables(5);
    return this.#tables.undeliveredOutbox(afterSeq, limit).map((m) => ({
      seq: String(m.seq),
      id: m.id,
      topic: m.topic,
      key: m.key,
      payload: m.payload,
      created_at: m.createdAt,
    }));
  }

  #countRecords(): Rows {
    this.#requireTables(5);
    const rows: Rows = [...this.#tables.records].map(([kind, rows]) => ({ name: kind, n: String(rows.size) }));
    rows.push({ name: '#audit', n: String(this.#tables.audit.length) });
    rows.push({ name: '#outbox', n: String(this.#tables.undelivered) });
    return rows;
  }

  /** The outbox delivery statements, answered on the in-memory tables with this process's clock as the server's. */
  #deliveryHandlers(s: SchemaName): void {
    const tables = this.#tables;
    const tokens = (seqs: unknown, claims: unknown): ClaimToken[] =>
      (seqs as unknown[]).map((seq, i) => ({ seq: Number(seq), claim: String((claims as unknown[])[i]) }));
    const handle = (text: string, answer: (params: unknown[]) => Rows) =>
      this.#handlers.set(text, (params) => {
        this.#requireTables(5);
        return answer(params);
      });
    handle(claimSql(s), ([relay, limit, leaseMs]) =>
      tables.claim(String(relay), Number(limit), Number(leaseMs), Date.now()).map((m) => ({
        seq: String(m.seq),
        id: m.id,
        topic: m.topic,
        key: m.key,
        payload: JSON.stringify(m.payload),
        created_at: m.createdAt,
        attempts: m.attempt,
        claim: m.claim,
      })),
    );
    handle(acknowledgeSql(s), ([seqs, claims]) => {
      const marked = tokens(seqs, claims).filter((t) => tables.acknowledge([t], Date.now()) === 1);
      return marked.map((t) => ({ seq: String(t.seq) }));
    });
    handle(failSql(s), ([seq, claim, maxAttempts, retryInMs, error]) => {
      const failure = { error: String(error), retryInMs: Number(retryInMs), maxAttempts: Number(maxAttempts) };
      const outcome = tables.fail({ seq: Number(seq), claim: String(claim) }, failure, Date.now());
      return outcome === 'not_held' ? [] : [{ state: outcome === 'dead' ? 'dead' : 'pending' }];
    });
    handle(releaseSql(s), ([seqs, claims]) =>
      tokens(seqs, claims)
        .filter((t) => tables.release([t]) === 1)
        .map((t) => ({ seq: String(t.seq) })),
    );
    handle(inspectSql(s), ([state, afterSeq, limit]) =>
      tables.inspect(String(state) as DeliveryState, Number(afterSeq), Number(limit)).map((r) => ({
        seq: String(r.seq),
        id: r.id,
        topic: r.topic,
        key: r.key,
        state: r.state,
        attempts: r.attempts,
        last_error: r.lastError,
        created_at: r.createdAt,
        settled_at: r.settledAt,
      })),
    );
    handle(replaySql(s), ([seqs]) =>
      (seqs as unknown[]).map(Number).flatMap((seq) => (tables.replay([seq]) === 1 ? [{ seq: String(seq) }] : [])),
    );
    handle(pruneSql(s), ([cutoff]) => [{ n: String(tables.prune(new Date(String(cutoff)).toISOString())) }]);
    handle(deliveryStatsSql(s), () => {
      const stats = tables.deliveryStats();
      const rows: Rows = (['pending', 'claimed', 'delivered', 'dead'] as const)
        .filter((state) => stats[state] > 0)
        .map((state) => ({ name: state, n: String(stats[state]), at: null }));
      rows.push({ name: '#oldest', n: '0', at: stats.oldestUndeliveredAt });
      return rows;
    });
  }

  /** A write-batch statement: a conflict is answered with its position and nothing applied, as the server does. */
  #writeBatch(shape: WriteBatchShape, params: unknown[]): Rows {
    this.#requireTables(2);
    return this.#apply(decodeWriteBatch(shape, params));
  }

  #applyCommit(params: unknown[]): Rows {
    this.#requireTables(2);
    return this.#apply(decodeApplyCommit(params));
  }

  #readRekeyRecords(kind: string, field: string): Rows {
    this.#requireTables(1);
    return this.#tables.rekeyRecords({ kind, ownerField: field });
  }

  /** The re-keying statement: version row (23505 if present), then every move, or UE409 and nothing. */
  #rekey(params: unknown[]): Rows {
    this.#requireTables(1);
    const [, version, name, checksum, breaking, kind, from, to, total] = params;
    if (this.#tables.schemaVersions.some((v) => v.version === Number(version))) {
      throw new FakePostgresError('23505', 'duplicate key value violates unique constraint "schema_migrations_pkey"');
    }
    const rows = this.#tables.records.get(String(kind)) ?? new Map();
    const sources = (from as string[]).map((id) => rows.get(id));
    const targets = to as string[];
    if (
      rows.size !== Number(total) ||
      sources.some((row) => row === undefined) ||
      targets.some((id) => rows.has(id) && !(from as string[]).includes(id))
    ) {
      throw Object.assign(new FakePostgresError('UE409', 'user-engine: version conflict at write 1'), { detail: '1' });
    }
    sources.forEach((row, i) => {
      rows.delete(row.id);
      const id = targets[i] as string;
      rows.set(id, { ...row, id, key: `${String(kind)}:${id}` });
    });
    this.#tables.writeAppliedSchemaVersion({
      version: Number(version),
      name: String(name),
      checksum: String(checksum),
      breaking: breaking === true,
    });
    return [{ failed: 0 }];
  }

  /**
   * Applies a whole batch in one synchronous step, so no other statement can
   * interleave: every commit here behaves as a commit that met no concurrent
   * writer on the server. (A race that slips between a commit's check and its
   * write, which the server raises as UE409, can be injected with
   * `failStatement`.)
   */
  #apply(batch: CommitBatch): Rows {
    const failed = this.#tables.apply(batch, new Date().toISOString());
    return [{ failed: failed === null ? 0 : failed.position }];
  }
}

import type { StoreRecord } from '../store/record.js';
import type { MigrationReport, SchemaReadiness } from '../store/schema.js';
import type {
  AuditEntry,
  AuditQuery,
  OutboxMessage,
  OutboxQuery,
  RecordCounts,
  RecordPage,
  StoreTransaction,
  UserEngineStore,
} from '../store/store.js';
import type { OpenedStore } from './open-store.js';

/**
 * The chosen store, opened on its first call. The engine checks a command's
 * input before it touches the store, so a mistake (`--email nope`) is
 * reported without a connection, and without creating an embedded database
 * that would take seconds and tens of megabytes.
 */
export class LazyStore implements UserEngineStore {
  readonly adapter = 'cli';
  readonly #open: () => Promise<OpenedStore>;
  #opening: Promise<OpenedStore> | undefined;

  constructor(open: () => Promise<OpenedStore>) {
    this.#open = open;
  }

  /** The opened store, opening it now if no call has yet. */
  async opened(): Promise<UserEngineStore> {
    this.#opening ??= this.#open();
    return (await this.#opening).store;
  }

  /** Closes the store if it was opened (and waits for an opening in progress). */
  async close(): Promise<void> {
    const opening = this.#opening;
    if (opening === undefined) return;
    const opened = await opening.catch(() => undefined);
    await opened?.close();
  }

  async readiness(): Promise<SchemaReadiness> {
    return (await this.opened()).readiness();
  }

  async migrate(): Promise<MigrationReport> {
    return (await this.opened()).migrate();
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return (await this.opened()).transaction(work);
  }

  async getRecord(kind: string, id: string): Promise<StoreRecord | null> {
    return (await this.opened()).getRecord(kind, id);
  }

  /** Both stores the tool opens offer the one-read lookup; a store without it gets the engine's two reads. */
  async getIndexedRecord(
    index: { kind: string; id: string },
    target: { kind: string; field: string },
  ): Promise<StoreRecord | null> {
    const store = await this.opened();
    if (store.getIndexedRecord !== undefined) return store.getIndexedRecord(index, target);
    const entry = await store.getRecord(index.kind, index.id);
    const id = entry?.data[target.field];
    return typeof id === 'string' ? store.getRecord(target.kind, id) : null;
  }

  async listRecords(kind: string, page?: RecordPage): Promise<StoreRecord[]> {
    return (await this.opened()).listRecords(kind, page);
  }

  async readAudit(query?: AuditQuery): Promise<AuditEntry[]> {
    return (await this.opened()).readAudit(query);
  }

  async pendingOutbox(query?: OutboxQuery): Promise<OutboxMessage[]> {
    return (await this.opened()).pendingOutbox(query);
  }

  async recordCounts(): Promise<RecordCounts> {
    return (await this.opened()).recordCounts();
  }
}

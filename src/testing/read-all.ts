import type { StoreRecord } from '../store/record.js';
import type { AuditEntry, OutboxMessage, UserEngineStore } from '../store/store.js';

const PAGE = 1000;

/** Every record of one kind, paging by id. */
export async function readAllRecords(store: UserEngineStore, kind: string): Promise<StoreRecord[]> {
  const out: StoreRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listRecords(kind, after === undefined ? { limit: PAGE } : { after, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]?.id;
  }
}

/** Pages a seq-ordered log from the start to its end. */
async function readAllBySeq<T extends { seq: number }>(read: (afterSeq: number) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let seq = 0; ; ) {
    const page = await read(seq);
    out.push(...page);
    if (page.length < PAGE) return out;
    seq = page[page.length - 1]?.seq ?? seq;
  }
}

export function readAllAudit(store: UserEngineStore): Promise<AuditEntry[]> {
  return readAllBySeq((afterSeq) => store.readAudit({ afterSeq, limit: PAGE }));
}

export function readAllOutbox(store: UserEngineStore): Promise<OutboxMessage[]> {
  return readAllBySeq((afterSeq) => store.pendingOutbox({ afterSeq, limit: PAGE }));
}

/** Everything the store holds, as one JSON text: for "nothing changed" and "no personal data left" checks. */
export async function dumpStore(store: UserEngineStore): Promise<string> {
  const counts = await store.recordCounts();
  const records: unknown[] = [];
  for (const kind of Object.keys(counts.records)) records.push(...(await readAllRecords(store, kind)));
  return JSON.stringify({ counts, records, audit: await readAllAudit(store), outbox: await readAllOutbox(store) });
}

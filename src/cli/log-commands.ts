import { MAX_PAGE_LIMIT, normalizeAuditQuery, normalizeOutboxQuery } from '../store/queries.js';
import type { Options } from './args.js';
import { type CommandSpec, optional } from './command.js';
import { auditTable, nextPageLine, outboxTable } from './format.js';

/** `--after-seq` and `--limit`, checked by the tool (usage errors) before the store's own checks. */
function page(options: Options): { afterSeq?: number; limit?: number } {
  return {
    ...optional('afterSeq', options.integer('after-seq', 0)),
    ...optional('limit', options.integer('limit', 1, MAX_PAGE_LIMIT)),
  };
}

/** The seq to pass as `--after-seq` for the next page: the last one, when the page came back full. */
function nextSeq(rows: readonly { seq: number }[], limit: number): number | null {
  return rows.length === limit ? (rows[rows.length - 1]?.seq ?? null) : null;
}

function moreCommand(command: string, next: number | null, limit: number | undefined, extra = ''): string {
  const limitFlag = limit === undefined ? '' : ` --limit ${limit}`;
  return nextPageLine(next, `user-engine ${command} --after-seq ${next}${limitFlag}${extra}`);
}

const audit: CommandSpec = {
  name: 'audit',
  synopsis: `[--after-seq N] [--limit N] [--record-key user:ID]`,
  summary: `the audit log, oldest first (default 100 entries, at most ${MAX_PAGE_LIMIT}); prints the command for the next page`,
  args: [],
  options: ['after-seq', 'limit', 'record-key'],
  store: 'existing',
  prepare: (_args, options) => {
    const recordKey = options.string('record-key');
    const query = { ...page(options), ...optional('recordKey', recordKey) };
    const { limit } = normalizeAuditQuery(query);
    return async ({ store }) => {
      const entries = await store.readAudit(query);
      const next = nextSeq(entries, limit);
      const extra = recordKey === undefined ? '' : ` --record-key ${recordKey}`;
      return {
        json: { entries, next },
        text: `${auditTable(entries)}${moreCommand('audit', next, query.limit, extra)}`,
      };
    };
  },
};

const outbox: CommandSpec = {
  name: 'outbox',
  synopsis: '[--after-seq N] [--limit N]',
  summary: `pending outbox messages, oldest first (default 100, at most ${MAX_PAGE_LIMIT}); prints the command for the next page`,
  args: [],
  options: ['after-seq', 'limit'],
  store: 'existing',
  prepare: (_args, options) => {
    const query = page(options);
    const { limit } = normalizeOutboxQuery(query);
    return async ({ store }) => {
      const messages = await store.pendingOutbox(query);
      const next = nextSeq(messages, limit);
      return { json: { messages, next }, text: `${outboxTable(messages)}${moreCommand('outbox', next, query.limit)}` };
    };
  },
};

export const LOG_COMMANDS: readonly CommandSpec[] = [audit, outbox];

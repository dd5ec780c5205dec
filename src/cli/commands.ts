import type { UserEngine } from '../engine/engine.js';
import type { User } from '../engine/user.js';
import { ValidationError } from '../store/errors.js';
import type { JsonObject } from '../store/json.js';
import type { SchemaReadiness } from '../store/schema.js';
import type { AuditEntry, OutboxMessage, RecordCounts, UserEngineStore } from '../store/store.js';
import { fields, table } from './output.js';

/** What a command hands back: data for `--json`, text for people, and the exit code. */
export interface CommandResult {
  json: unknown;
  text: string;
  exitCode?: number;
}

export type Values = Record<string, string | boolean | undefined>;

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(values: Values, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function integerOption(values: Values, name: string): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

/** Wrong usage of the tool itself (exit 2), as opposed to an engine error (exit 1). */
export class UsageError extends Error {}

export function userText(user: User): string {
  return fields([
    ['id', user.id],
    ['version', String(user.version)],
    ['status', user.status],
    ['email', user.email ?? '-'],
    ['handle', user.handle ?? '-'],
    ['display name', user.displayName ?? '-'],
    ['locale', user.locale ?? '-'],
    ['roles', user.roles.join(', ') || '-'],
    ['identities', user.identities.map((i) => `${i.provider}:${i.subject}`).join(', ') || '-'],
    ['attributes', JSON.stringify(user.attributes)],
    ['created', user.createdAt],
    ['updated', user.updatedAt],
  ]);
}

export function usersTable(users: readonly User[]): string {
  return table(users, [
    { header: 'ID', value: (u) => u.id },
    { header: 'V', value: (u) => String(u.version) },
    { header: 'STATUS', value: (u) => u.status },
    { header: 'EMAIL', value: (u) => u.email ?? '-', max: 40 },
    { header: 'HANDLE', value: (u) => u.handle ?? '-' },
    { header: 'ROLES', value: (u) => u.roles.join(',') || '-', max: 30 },
  ]);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  return table(entries, [
    { header: 'SEQ', value: (e) => String(e.seq) },
    { header: 'AT', value: (e) => e.at },
    { header: 'ACTOR', value: (e) => e.actor, max: 20 },
    { header: 'ACTION', value: (e) => e.action },
    { header: 'DETAIL', value: (e) => JSON.stringify(e.detail), max: 90 },
  ]);
}

export function outboxTable(messages: readonly OutboxMessage[]): string {
  return table(messages, [
    { header: 'SEQ', value: (m) => String(m.seq) },
    { header: 'TOPIC', value: (m) => m.topic },
    { header: 'KEY', value: (m) => m.key },
    { header: 'PAYLOAD', value: (m) => JSON.stringify(m.payload), max: 80 },
  ]);
}

export function countsText(counts: RecordCounts): string {
  const rows: [string, string][] = Object.entries(counts.records).map(([kind, n]) => [`records ${kind}`, String(n)]);
  rows.push(['audit entries', String(counts.audit)], ['outbox pending', String(counts.outboxPending)]);
  return fields(rows);
}

export function readinessText(readiness: SchemaReadiness): string {
  const lines = [
    `schema: ${readiness.ready ? 'ready' : 'NOT READY'} (version ${readiness.currentVersion}, this code expects ${readiness.latestVersion})`,
  ];
  if (readiness.pending.length > 0) {
    lines.push(`pending versions: ${readiness.pending.join(', ')} (run: user-engine migrate)`);
  }
  for (const problem of readiness.problems) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}

export async function usersCommand(
  engine: UserEngine,
  action: string | undefined,
  args: readonly string[],
  values: Values,
  actor: string,
): Promise<CommandResult> {
  const ctx = { actor };
  const idArg = () => {
    const id = args[0];
    if (id === undefined) throw new UsageError(`users ${action} needs a user id`);
    return id;
  };
  const one = (user: User | null): CommandResult =>
    user === null ? { json: null, text: 'no such user', exitCode: 1 } : { json: user, text: userText(user) };
  switch (action) {
    case 'register': {
      const attributes = stringOption(values, 'attributes');
      let parsed: JsonObject | undefined;
      if (attributes !== undefined) {
        try {
          parsed = JSON.parse(attributes) as JsonObject;
        } catch {
          throw new ValidationError('attributes', 'must be a JSON object, e.g. \'{"plan":"pro"}\'');
        }
      }
      const user = await engine.registerUser(ctx, {
        email: requiredOption(values, 'email'),
        ...optional('handle', stringOption(values, 'handle')),
        ...optional('displayName', stringOption(values, 'display-name')),
        ...optional('locale', stringOption(values, 'locale')),
        ...optional('attributes', parsed),
      });
      return { json: user, text: `registered\n${userText(user)}` };
    }
    case 'get':
      return one(await engine.getUser(idArg()));
    case 'find': {
      const email = stringOption(values, 'email');
      const handle = stringOption(values, 'handle');
      const identity = stringOption(values, 'identity');
      const given = [email, handle, identity].filter((v) => v !== undefined).length;
      if (given !== 1)
        throw new UsageError('users find needs exactly one of --email, --handle, --identity provider:subject');
      if (email !== undefined) return one(await engine.findUserByEmail(email));
      if (handle !== undefined) return one(await engine.findUserByHandle(handle));
      const colon = (identity ?? '').indexOf(':');
      if (colon < 1) throw new UsageError('--identity must look like provider:subject');
      return one(await engine.findUserByIdentity((identity ?? '').slice(0, colon), (identity ?? '').slice(colon + 1)));
    }
    case 'list': {
      const after = stringOption(values, 'after');
      const limit = integerOption(values, 'limit');
      const page = await engine.listUsers({ ...optional('after', after), ...optional('limit', limit) });
      const more = page.next === null ? '' : `\nmore: user-engine users list --after ${page.next}`;
      return { json: page, text: `${usersTable(page.users)}${more}` };
    }
    case 'suspend': {
      const user = await engine.suspendUser(ctx, idArg(), { reason: requiredOption(values, 'reason') });
      return { json: user, text: `suspended\n${userText(user)}` };
    }
    case 'reactivate': {
      const user = await engine.reactivateUser(ctx, idArg());
      return { json: user, text: `reactivated\n${userText(user)}` };
    }
    case 'erase': {
      const user = await engine.eraseUser(ctx, idArg());
      return { json: user, text: `erased: personal data removed, tombstone kept\n${userText(user)}` };
    }
    default:
      throw new UsageError(
        `unknown users command ${action === undefined ? '(none)' : JSON.stringify(action)}; see user-engine users --help`,
      );
  }
}

export async function auditCommand(store: UserEngineStore, values: Values): Promise<CommandResult> {
  const entries = await store.readAudit({
    ...optional('afterSeq', integerOption(values, 'after-seq')),
    ...optional('limit', integerOption(values, 'limit')),
    ...optional('recordKey', stringOption(values, 'record-key')),
  });
  return { json: entries, text: auditTable(entries) };
}

export async function outboxCommand(store: UserEngineStore, values: Values): Promise<CommandResult> {
  const messages = await store.pendingOutbox({
    ...optional('afterSeq', integerOption(values, 'after-seq')),
    ...optional('limit', integerOption(values, 'limit')),
  });
  return { json: messages, text: outboxTable(messages) };
}

/** `{ [name]: value }` when the value is given, `{}` otherwise (exactOptionalPropertyTypes-friendly). */
export function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

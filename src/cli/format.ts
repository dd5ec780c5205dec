import type { User } from '../engine/user.js';
import type { SchemaReadiness } from '../store/schema.js';
import type { AuditEntry, OutboxMessage, RecordCounts } from '../store/store.js';
import { fields, table } from './output.js';

/** Text for people; `--json` prints the objects themselves. */

export function userText(user: User): string {
  return fields([
    ['id', user.id],
    ['version', String(user.version)],
    ['status', user.status],
    ['email', user.email ?? '-'],
    ['email verified', user.emailVerifiedAt ?? '-'],
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

export function readinessText(readiness: SchemaReadiness, migrateCommand: string): string {
  const lines = [
    `schema: ${readiness.ready ? 'ready' : 'NOT READY'} (version ${readiness.currentVersion}, this code expects ${readiness.latestVersion})`,
  ];
  if (readiness.pending.length > 0) {
    lines.push(`pending versions: ${readiness.pending.join(', ')} (run: ${migrateCommand})`);
  }
  for (const problem of readiness.problems) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}

/** The line that tells a person how to get the next page, or nothing on the last page. */
export function nextPageLine(next: string | number | null, command: string): string {
  return next === null ? '' : `\nmore: ${command}`;
}

import type { StoreRecord } from '../src/index.js';
import {
  EMAIL_INDEX_KIND,
  HANDLE_INDEX_KIND,
  IDENTITY_INDEX_KIND,
  type IndexData,
  normalizeEmail,
  USER_KIND,
  type UserData,
  type UserEngineStore,
} from '../src/index.js';
import { readAllAudit, readAllOutbox, readAllRecords } from '../src/testing/index.js';

export interface InvariantReport {
  checks: number;
  failures: string[];
  users: number;
  audit: number;
  outbox: number;
}

/**
 * Checks the engine's promises from the store's contents alone:
 * - every email, handle and identity index record points to a live user
 *   that holds that value, and every user's values have their index record;
 * - each user's version is 1 + the number of audit entries about it (every
 *   successful command wrote exactly one, in the same transaction);
 * - audit entries and outbox messages pair up one to one;
 * - no erased user holds personal data.
 * `acknowledged` (commands the callers saw succeed) and `unacknowledged`
 * (commands that failed as store_unavailable, which may or may not have
 * committed) bound the number of audit entries.
 */
export async function checkInvariants(
  store: UserEngineStore,
  counts: { acknowledged: number; unacknowledged: number },
): Promise<InvariantReport> {
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, message: string) => {
    checks += 1;
    if (!ok) failures.push(message);
  };
  const users = await readAllRecords(store, USER_KIND);
  const byId = new Map(users.map((u) => [u.id, u.data as unknown as UserData]));
  const emails = await readAllRecords(store, EMAIL_INDEX_KIND);
  const handles = await readAllRecords(store, HANDLE_INDEX_KIND);
  const identities = await readAllRecords(store, IDENTITY_INDEX_KIND);
  const audit = await readAllAudit(store);
  const outbox = await readAllOutbox(store);

  const owner = (index: StoreRecord) => (index.data as unknown as IndexData).userId;
  for (const index of emails) {
    const user = byId.get(owner(index));
    check(user !== undefined && user.status !== 'erased', `email index ${index.id} points to a missing or erased user`);
    check(
      user?.email != null && normalizeEmail(user.email).indexKey === index.id,
      `email index ${index.id} points to a user that does not hold it`,
    );
  }
  for (const index of handles) {
    const user = byId.get(owner(index));
    check(user?.handle === index.id && user.status !== 'erased', `handle index ${index.id} does not match its user`);
  }
  for (const index of identities) {
    const user = byId.get(owner(index));
    check(
      user?.identities.some((i) => `${i.provider}:${i.subject}` === index.id) === true,
      `identity index ${index.id} does not match its user`,
    );
  }
  const emailIndex = new Map(emails.map((e) => [e.id, owner(e)]));
  const handleIndex = new Map(handles.map((h) => [h.id, owner(h)]));
  const identityIndex = new Map(identities.map((i) => [i.id, owner(i)]));
  const perUser = new Map<string, number>();
  for (const entry of audit) {
    if (entry.recordKey?.startsWith(`${USER_KIND}:`)) {
      const id = entry.recordKey.slice(USER_KIND.length + 1);
      perUser.set(id, (perUser.get(id) ?? 0) + 1);
    }
  }
  for (const record of users) {
    const user = record.data as unknown as UserData;
    if (user.email !== null) {
      check(
        emailIndex.get(normalizeEmail(user.email).indexKey) === record.id,
        `user ${record.id} email has no index record`,
      );
    }
    if (user.handle !== null)
      check(handleIndex.get(user.handle) === record.id, `user ${record.id} handle has no index record`);
    for (const i of user.identities) {
      check(
        identityIndex.get(`${i.provider}:${i.subject}`) === record.id,
        `user ${record.id} identity has no index record`,
      );
    }
    check(
      record.version === perUser.get(record.id),
      `user ${record.id} is at version ${record.version} but has ${perUser.get(record.id) ?? 0} audit entries`,
    );
    if (user.status === 'erased') {
      const personal = [user.email, user.handle, user.displayName, user.locale, user.suspendedReason];
      check(
        personal.every((v) => v === null) &&
          user.roles.length === 0 &&
          user.identities.length === 0 &&
          Object.keys(user.attributes).length === 0,
        `erased user ${record.id} still holds personal data`,
      );
    }
  }
  check(audit.length === outbox.length, `audit has ${audit.length} entries but the outbox ${outbox.length} messages`);
  // Concurrent commits may take audit and outbox sequence numbers in different orders, so pair
  // them by what they describe: (action, user, version) is unique per successful command.
  const describe = (action: string, body: Record<string, unknown>) =>
    `${action}|${String(body.userId)}|${String(body.version)}`;
  const auditChanges = new Set(audit.map((a) => describe(a.action, a.detail)));
  const outboxChanges = new Set(outbox.map((o) => describe(o.topic, o.payload)));
  check(auditChanges.size === audit.length, 'two audit entries describe the same change');
  check(
    [...auditChanges].every((c) => outboxChanges.has(c)) && auditChanges.size === outboxChanges.size,
    'the audit entries and the outbox messages do not describe the same changes',
  );
  check(
    audit.length >= counts.acknowledged && audit.length <= counts.acknowledged + counts.unacknowledged,
    `audit has ${audit.length} entries; callers saw ${counts.acknowledged} successes and ${counts.unacknowledged} unacknowledged commands`,
  );
  return { checks, failures, users: users.length, audit: audit.length, outbox: outbox.length };
}

import {
  EMAIL_INDEX_KIND,
  HANDLE_INDEX_KIND,
  IDENTITY_INDEX_KIND,
  type IndexData,
  identityIndexId,
  USER_KIND,
  type UserData,
} from '../engine/user.js';
import { emailIndexKey } from '../engine/validation.js';
import type { StoreRecord } from '../store/record.js';
import type { UserEngineStore } from '../store/store.js';
import { readAllAudit, readAllOutbox, readAllRecords } from './read-all.js';

/** What `checkUserInvariants` found: how many checks ran and which failed (ids only, never values). */
export interface InvariantReport {
  checks: number;
  failures: string[];
  users: number;
  audit: number;
  outbox: number;
}

/** What the callers of a workload saw, to bound what the store may hold. */
export interface InvariantExpectations {
  /** Commands the callers saw succeed: at least this many audit entries. */
  acknowledged?: number;
  /** Commands that failed as `store_unavailable` and may or may not have committed. */
  unacknowledged?: number;
  /** Users whose `eraseUser` resolved: each must still be erased. */
  erased?: Iterable<string>;
}

/**
 * Checks the engine's promises from the store's contents alone, never from
 * what commands returned:
 * - every email, handle and identity index record points to a live user that
 *   holds that value, and every live user's values have their index record
 *   pointing back (so no two live users share an email, handle or identity);
 * - each user's version equals the number of audit entries about it (every
 *   successful command wrote exactly one, in the same transaction);
 * - audit entries and outbox messages describe the same changes, one to one;
 * - per user, outbox messages in seq order carry increasing versions — seq
 *   order is commit order for one user, which is what a relay delivers by;
 * - an erased user holds no personal data, and a user whose erasure was
 *   acknowledged is still erased.
 * Failure messages name user ids and record kinds only, never a value.
 */
export async function checkUserInvariants(
  store: UserEngineStore,
  expect: InvariantExpectations = {},
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
  const live = (user: UserData | undefined): user is UserData => user !== undefined && user.status !== 'erased';
  for (const index of emails) {
    const user = byId.get(owner(index));
    check(live(user), `an email index record points to user ${owner(index)}, which is missing or erased`);
    check(
      user?.email != null && emailIndexKey(user.email) === index.id,
      `an email index record points to user ${owner(index)}, which does not hold that address`,
    );
  }
  for (const index of handles) {
    const user = byId.get(owner(index));
    check(
      live(user) && user.handle === index.id,
      `a handle index record points to user ${owner(index)}, which is erased or does not hold it`,
    );
  }
  for (const index of identities) {
    const user = byId.get(owner(index));
    check(
      live(user) && user.identities.some((i) => identityIndexId(i) === index.id),
      `an identity index record points to user ${owner(index)}, which is erased or does not hold it`,
    );
  }
  const emailOwner = new Map(emails.map((e) => [e.id, owner(e)]));
  const handleOwner = new Map(handles.map((h) => [h.id, owner(h)]));
  const identityOwner = new Map(identities.map((i) => [i.id, owner(i)]));
  const auditPerUser = new Map<string, number>();
  for (const entry of audit) {
    if (entry.recordKey?.startsWith(`${USER_KIND}:`)) {
      const id = entry.recordKey.slice(USER_KIND.length + 1);
      auditPerUser.set(id, (auditPerUser.get(id) ?? 0) + 1);
    }
  }
  for (const record of users) {
    const user = record.data as unknown as UserData;
    if (user.email !== null) {
      check(
        emailOwner.get(emailIndexKey(user.email)) === record.id,
        `user ${record.id} holds an email whose index record does not point to it`,
      );
    }
    if (user.handle !== null) {
      check(
        handleOwner.get(user.handle) === record.id,
        `user ${record.id} holds a handle whose index record does not point to it`,
      );
    }
    for (const identity of user.identities) {
      check(
        identityOwner.get(identityIndexId(identity)) === record.id,
        `user ${record.id} holds an identity whose index record does not point to it`,
      );
    }
    check(
      record.version === auditPerUser.get(record.id),
      `user ${record.id} is at version ${record.version} but has ${auditPerUser.get(record.id) ?? 0} audit entries`,
    );
    if (user.status === 'erased') {
      const personal = [
        user.email,
        user.emailVerifiedAt ?? null,
        user.handle,
        user.displayName,
        user.locale,
        user.suspendedReason,
      ];
      check(
        personal.every((v) => v === null) &&
          user.roles.length === 0 &&
          user.identities.length === 0 &&
          Object.keys(user.attributes).length === 0,
        `erased user ${record.id} still holds personal data`,
      );
    }
  }
  for (const id of expect.erased ?? []) {
    check(byId.get(id)?.status === 'erased', `user ${id} was reported erased but is not erased now`);
  }
  check(audit.length === outbox.length, `audit has ${audit.length} entries but the outbox ${outbox.length} messages`);
  // Concurrent commits may take audit and outbox sequence numbers in different orders, so pair
  // them by what they describe: (action, user, version, session) is unique per successful command.
  // Sign-ins and sign-outs (the Auth.js adapter) name their session instead of a user version.
  const describe = (action: string, body: Record<string, unknown>) =>
    `${action}|${String(body.userId)}|${String(body.version)}|${String(body.session)}`;
  const auditChanges = new Set(audit.map((a) => describe(a.action, a.detail)));
  const outboxChanges = new Set(outbox.map((o) => describe(o.topic, o.payload)));
  check(auditChanges.size === audit.length, 'two audit entries describe the same change');
  check(
    [...auditChanges].every((c) => outboxChanges.has(c)) && auditChanges.size === outboxChanges.size,
    'the audit entries and the outbox messages do not describe the same changes',
  );
  const lastVersion = new Map<string, number>();
  for (const message of outbox) {
    if (typeof message.payload.version !== 'number') continue; // a sign-in or sign-out changes no user version
    const version = message.payload.version;
    const before = lastVersion.get(message.key) ?? 0;
    check(
      version > before,
      `user ${message.key}: outbox message ${message.seq} carries version ${version} after version ${before} (seq order is not commit order)`,
    );
    lastVersion.set(message.key, Math.max(before, version));
  }
  if (expect.acknowledged !== undefined) {
    const most = expect.acknowledged + (expect.unacknowledged ?? 0);
    check(
      audit.length >= expect.acknowledged && audit.length <= most,
      `audit has ${audit.length} entries; callers saw ${expect.acknowledged} successes and ${expect.unacknowledged ?? 0} unacknowledged commands`,
    );
  }
  return { checks, failures, users: users.length, audit: audit.length, outbox: outbox.length };
}

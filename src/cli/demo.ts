import { randomBytes } from 'node:crypto';
import type { UserEngine } from '../engine/engine.js';
import type { User } from '../engine/user.js';
import { UserEngineError } from '../store/errors.js';
import type { UserEngineStore } from '../store/store.js';
import type { CommandResult, CommandSpec } from './command.js';
import { auditTable, countsText, outboxTable, usersTable } from './format.js';

export const DEMO: CommandSpec = {
  name: 'demo',
  synopsis: '',
  summary: 'a scripted lifecycle that shows every part of the engine',
  details: `Registers three users, updates a profile, changes an email, links an identity,
grants roles, suspends and reactivates one user and erases another, then prints
the audit tail, the pending outbox and the redacted counts. Safe to run again.`,
  args: [],
  options: [],
  store: 'create',
  prepare: () => (session) => runDemo(session.engine, session.store, session.where),
};

/**
 * A scripted lifecycle that shows every part of the engine: registrations,
 * a profile update, an email change, a linked identity, roles, a suspension
 * and reactivation, an erasure, a refused duplicate — then the audit tail,
 * the pending outbox and the redacted counts. Emails carry a per-run tag so
 * the demo can run again on the same embedded database.
 */
export async function runDemo(engine: UserEngine, store: UserEngineStore, where: string): Promise<CommandResult> {
  const tag = randomBytes(2).toString('hex');
  const email = (name: string) => `${name}.${tag}@example.com`;
  const lines: string[] = [];
  const say = (text = '') => lines.push(text);
  const step = (what: string, user: User) => say(`  ${what.padEnd(44)} -> ${user.status} v${user.version}`);
  const demo = { actor: 'demo' };
  const auditBefore = (await store.recordCounts()).audit;
  const lastAudit = await lastSeq(store);

  say(`user-engine demo on the ${where}  (run ${tag})`);
  say();
  say('1. Register three users (each is one transaction: user + index records + audit + event)');
  let ada = await engine.registerUser(demo, {
    email: email('Ada'),
    handle: `ada_${tag}`,
    displayName: 'Ada Lovelace',
    locale: 'en-gb',
  });
  step(`register ${ada.email}`, ada);
  let grace = await engine.registerUser(demo, { email: email('grace'), displayName: 'Grace Hopper' });
  step(`register ${grace.email}`, grace);
  let alan = await engine.registerUser(demo, { email: email('alan'), handle: `alan_${tag}` });
  step(`register ${alan.email}`, alan);
  try {
    await engine.registerUser(demo, { email: email('ADA') });
  } catch (error) {
    if (!UserEngineError.is(error, 'email_taken')) throw error;
    say(`  register ${email('ADA')} again (other case)  -> refused: ${error.code}`);
  }
  say();
  say('2. Change them (optimistic concurrency: every command bumps the version)');
  ada = await engine.updateProfile(demo, ada.id, { attributes: { plan: 'pro', newsletter: true } });
  step('update Ada profile (attributes)', ada);
  ada = await engine.changeEmail(demo, ada.id, email('countess'));
  step(`change Ada email -> ${ada.email}`, ada);
  ada = await engine.linkIdentity(demo, ada.id, { provider: 'github', subject: `ada-${tag}` });
  step('link Ada github identity', ada);
  ada = await engine.grantRole(demo, ada.id, 'admin');
  grace = await engine.grantRole(demo, grace.id, 'editor');
  step('grant Ada admin', ada);
  step('grant Grace editor', grace);
  alan = await engine.suspendUser({ actor: 'moderator' }, alan.id, { reason: 'suspicious sign-in' });
  step('suspend Alan', alan);
  alan = await engine.reactivateUser({ actor: 'moderator' }, alan.id);
  step('reactivate Alan', alan);
  grace = await engine.eraseUser({ actor: 'dpo' }, grace.id);
  step('erase Grace (right to erasure)', grace);
  const found = await engine.findUserByEmail(email('COUNTESS'));
  say(`  find by email ${email('COUNTESS')} -> ${found?.displayName ?? 'nobody'}`);
  say();
  say('3. The users now');
  say(indent(usersTable([ada, grace, alan])));
  say();
  const audit = await store.readAudit({ afterSeq: lastAudit.audit, limit: 20 });
  say(`4. Audit log, this run (${audit.length} entries: ids, versions and field names, never personal values)`);
  say(indent(auditTable(audit)));
  say();
  const outbox = await store.pendingOutbox({ afterSeq: lastAudit.outbox, limit: 20 });
  say(`5. Pending outbox, this run (${outbox.length} events, written in the same transactions)`);
  say(indent(outboxTable(outbox)));
  say();
  const counts = await store.recordCounts();
  say('6. Redacted counts (numbers only: safe for dashboards and support)');
  say(indent(countsText(counts)));
  say();
  say(
    `Grace's tombstone keeps only id, status and timestamps; ${counts.audit - auditBefore} audit entries and events were written.`,
  );
  say('Try: user-engine users list   |   user-engine audit --limit 5   |   user-engine --help');
  return { json: { run: tag, users: [ada, grace, alan], audit, outbox, counts }, text: lines.join('\n') };
}

async function lastSeq(store: UserEngineStore): Promise<{ audit: number; outbox: number }> {
  // The stores page forward only; walk to the end (the demo's databases are small).
  let audit = 0;
  for (;;) {
    const page = await store.readAudit({ afterSeq: audit, limit: 1000 });
    if (page.length === 0) break;
    audit = page[page.length - 1]?.seq ?? audit;
  }
  let outbox = 0;
  for (;;) {
    const page = await store.pendingOutbox({ afterSeq: outbox, limit: 1000 });
    if (page.length === 0) break;
    outbox = page[page.length - 1]?.seq ?? outbox;
  }
  return { audit, outbox };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}

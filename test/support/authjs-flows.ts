// End-to-end flows through @auth/core's Auth() handler with real Requests, on
// a user-engine store: an email magic-link sign-in, and OAuth/OIDC sign-up and
// sign-in through a real local OpenID Connect provider (oidc-provider, on
// localhost on a random port). Shared by the unit (memory, PGlite) and live
// test files.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Auth, type AuthConfig } from '@auth/core';
import Provider from 'oidc-provider';
import { UserEngineAdapter, type UserEngineAuthjsAdapter } from '../../src/authjs/index.js';
import { UserEngine, type UserEngineStore } from '../../src/index.js';
import { checkUserInvariants, dumpStore } from '../../src/testing/index.js';

const ORIGIN = 'http://localhost:3000';
const SECRET = 'an-auth-secret-for-tests-only-0123456789abcdef';

/** Cookies of one origin, as a browser keeps them. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some(
        (a) =>
          /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()),
      );
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

/** One person's browser: a cookie jar for the app and one for the identity provider. */
export class Browser {
  readonly app = new CookieJar();
  readonly idp = new CookieJar();
  constructor(readonly config: AuthConfig) {}

  /** A request to the app's Auth.js routes (`/auth/...`), as Auth() answers it. */
  async auth(path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers({ cookie: this.app.header() });
    let body: string | null = null;
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const url = path.startsWith('http') ? path : `${ORIGIN}${path}`;
    const response = await Auth(new Request(url, { method: init.method ?? 'GET', headers, body }), this.config);
    this.app.take(response);
    return response;
  }

  async csrf(): Promise<string> {
    const response = await this.auth('/auth/csrf');
    return ((await response.json()) as { csrfToken: string }).csrfToken;
  }

  async session(): Promise<{
    user?: { name?: string | null; email?: string | null; image?: string | null };
    expires?: string;
  } | null> {
    const response = await this.auth('/auth/session');
    return (await response.json()) as never;
  }

  async signOut(): Promise<void> {
    const csrfToken = await this.csrf();
    const response = await this.auth('/auth/signout', { method: 'POST', form: { csrfToken } });
    assert.equal(response.status, 302);
  }

  /** A request to the identity provider, following nothing. */
  async idpFetch(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers({ cookie: this.idp.header() });
    let body: string | null = null;
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    this.idp.take(response);
    return response;
  }
}

function location(response: Response, base?: string): string {
  const value = response.headers.get('location');
  assert.ok(value, `expected a redirect, got ${response.status}`);
  return new URL(value, base).href;
}

/** A local OpenID Connect provider whose users are `accounts` (sub → claims); it never asks for consent. */
export interface LocalIdp {
  issuer: string;
  accounts: Map<string, { email: string; name: string }>;
  close(): Promise<void>;
}

export async function startLocalIdp(): Promise<LocalIdp> {
  const accounts = new Map<string, { email: string; name: string }>();
  let handler: Parameters<typeof createServer>[1] = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handler?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'user-engine-app',
        client_secret: 'user-engine-app-secret',
        redirect_uris: [`${ORIGIN}/auth/callback/local-oidc`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    cookies: { keys: ['oidc-cookie-key-for-tests'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (account === undefined) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: account.email, email_verified: true, name: account.name }),
      };
    },
    // No consent screen: every client gets the scopes it asks for (oidc-provider's documented recipe).
    async loadExistingGrant(ctx) {
      const grantId =
        ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client?.clientId ?? '',
        accountId: ctx.oidc.session?.accountId ?? '',
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  // Keep the provider's dev-only warnings out of the test output.
  provider.on('server_error', () => {});
  handler = provider.callback() as never;
  return {
    issuer,
    accounts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Auth.js configured as an application would: database sessions on the adapter, an email and an OIDC provider. */
export function authConfig(
  adapter: UserEngineAuthjsAdapter,
  options: { issuer?: string; mailbox?: string[] } = {},
): AuthConfig {
  const providers: AuthConfig['providers'] = [];
  if (options.mailbox !== undefined) {
    const mailbox = options.mailbox;
    providers.push({
      id: 'email',
      type: 'email',
      name: 'Email',
      from: 'no-reply@example.com',
      maxAge: 600,
      options: {},
      // Captures the link instead of sending it.
      async sendVerificationRequest({ url }: { url: string }) {
        mailbox.push(url);
      },
    } as never);
  }
  if (options.issuer !== undefined) {
    providers.push({
      id: 'local-oidc',
      name: 'Local OIDC',
      type: 'oidc',
      issuer: options.issuer,
      clientId: 'user-engine-app',
      clientSecret: 'user-engine-app-secret',
    });
  }
  return {
    adapter,
    providers,
    secret: SECRET,
    trustHost: true,
    basePath: '/auth',
    session: { strategy: 'database' },
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
  };
}

/**
 * An OIDC sign-in up to the moment the browser comes back to the app with
 * the code: returns the callback URL, which `browser.auth(url)` completes.
 */
export async function oidcUntilCallback(browser: Browser, sub: string): Promise<string> {
  const csrfToken = await browser.csrf();
  const start = await browser.auth('/auth/signin/local-oidc', { method: 'POST', form: { csrfToken } });
  let url = location(start);
  assert.ok(url.includes('/auth?'), `Auth.js should send the browser to the provider, got ${url}`);
  for (let hops = 0; hops < 10; hops++) {
    if (url.startsWith(`${ORIGIN}/auth/callback/`)) return url;
    const response = await browser.idpFetch(url);
    if (response.status === 200) {
      // The provider's login form (dev interactions): sign in as `sub`.
      const html = await response.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, 'a login form');
      const submitted = await browser.idpFetch(new URL(action, url).href, {
        method: 'POST',
        form: { prompt: 'login', login: sub, password: 'any' },
      });
      url = location(submitted, url);
      continue;
    }
    url = location(response, url);
  }
  throw new Error('the identity provider never sent the browser back');
}

/** A fresh engine and adapter over `store` (migrated here). */
export async function adapterOn(
  store: UserEngineStore,
): Promise<{ engine: UserEngine; adapter: UserEngineAuthjsAdapter }> {
  await store.migrate();
  const engine = new UserEngine({ store });
  return { engine, adapter: UserEngineAdapter(engine, { tokenEncryptionKey: Buffer.alloc(32, 7) }) };
}

/** The email magic-link flow: sign in by link, read the session, sign out. */
export async function emailMagicLinkFlow(store: UserEngineStore): Promise<void> {
  const { adapter, engine } = await adapterOn(store);
  const mailbox: string[] = [];
  const browser = new Browser(authConfig(adapter, { mailbox }));
  const csrfToken = await browser.csrf();
  const sent = await browser.auth('/auth/signin/email', {
    method: 'POST',
    form: { csrfToken, email: 'Magic@Example.com' },
  });
  assert.equal(sent.status, 302);
  assert.match(location(sent), /\/auth\/verify-request/);
  assert.equal(mailbox.length, 1, 'the link was "sent"');
  const link = mailbox[0] as string;
  assert.ok(
    !(await dumpStore(store)).includes(new URL(link).searchParams.get('token') ?? '?'),
    'the token is not stored',
  );
  const callback = await browser.auth(link);
  assert.equal(callback.status, 302, await callback.clone().text());
  assert.ok(!location(callback).includes('error'), `signed in, not sent to ${location(callback)}`);
  const sessionToken = browser.app.get('authjs.session-token');
  assert.ok(sessionToken, 'a session cookie');
  assert.ok(!(await dumpStore(store)).includes(sessionToken), 'the session token is stored only as a hash');
  const session = await browser.session();
  assert.equal(session?.user?.email, 'magic@example.com');
  const user = await engine.findUserByEmail('magic@example.com');
  assert.ok(user?.emailVerifiedAt, 'an email sign-in proves the address');
  // The link works once.
  const again = await new Browser(browser.config).auth(link);
  assert.match(location(again), /error=Verification/);
  await browser.signOut();
  assert.equal(browser.app.get('authjs.session-token'), undefined);
  assert.deepEqual(await browser.session(), null);
  const actions = (await store.readAudit({ limit: 1000 })).map((e) => e.action);
  assert.deepEqual(actions, ['user.registered', 'user.signed_in', 'user.signed_out']);
  // A second sign-in finds the same user and verifies again.
  const second = new Browser(browser.config);
  const token2 = await second.csrf();
  await second.auth('/auth/signin/email', { method: 'POST', form: { csrfToken: token2, email: 'magic@example.com' } });
  await second.auth(mailbox[1] as string);
  assert.equal((await second.session())?.user?.email, 'magic@example.com');
  assert.equal((await store.recordCounts()).records.user, 1);
  assert.deepEqual((await checkUserInvariants(store)).failures, []);
}

/** OIDC: the first sign-in creates the user and links the account; the next signs in to the same user. */
export async function oidcSignUpThenSignInFlow(store: UserEngineStore, idp: LocalIdp): Promise<void> {
  const { adapter, engine } = await adapterOn(store);
  const sub = `alice-${Math.random().toString(36).slice(2)}`;
  idp.accounts.set(sub, { email: `${sub}@example.com`, name: 'Alice Liddell' });
  const config = authConfig(adapter, { issuer: idp.issuer });
  const first = new Browser(config);
  const callback = await first.auth(await oidcUntilCallback(first, sub));
  assert.equal(callback.status, 302);
  assert.ok(!location(callback).includes('error'), `sign-up failed: ${location(callback)}`);
  assert.equal((await first.session())?.user?.name, 'Alice Liddell');
  const user = await engine.findUserByIdentity('local-oidc', sub);
  assert.ok(user, 'createUser and linkAccount ran: the identity is linked');
  assert.equal(user.email, `${sub}@example.com`);
  assert.equal(user.emailVerifiedAt, null, 'an OAuth sign-up does not prove the address to Auth.js');
  const account = await adapter.getAccount(sub, 'local-oidc');
  assert.ok(typeof account?.access_token === 'string' && typeof account.id_token === 'string', 'tokens kept');
  const dump = await dumpStore(store);
  assert.ok(!dump.includes(account.access_token as string), 'the access token is sealed at rest');
  assert.ok(!dump.includes(account.id_token as string), 'the id token is sealed at rest');
  await first.signOut();
  // Later, on another device: the same user, no new user, no new account.
  const later = new Browser(config);
  const again = await later.auth(await oidcUntilCallback(later, sub));
  assert.ok(!location(again).includes('error'), `sign-in failed: ${location(again)}`);
  assert.equal((await later.session())?.user?.email, `${sub}@example.com`);
  const counts = await store.recordCounts();
  assert.equal(counts.records.user, 1);
  assert.equal(counts.records['authjs-account'], 1);
  const actions = (await store.readAudit({ limit: 1000 })).map((e) => e.action);
  assert.deepEqual(actions, [
    'user.registered',
    'user.identity_linked',
    'user.signed_in',
    'user.signed_out',
    'user.signed_in',
  ]);
  assert.deepEqual((await checkUserInvariants(store)).failures, []);
}

/**
 * Holds every `getUserByAccount` call until `parties` of them have arrived
 * (or a generous safety limit passes), so all of them find no user: the
 * worst interleaving of racing first sign-ins, forced rather than hoped for.
 */
function lookupsHeldTogether(adapter: UserEngineAuthjsAdapter, parties: number): UserEngineAuthjsAdapter {
  let arrived = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const safety = setTimeout(release, 30_000);
  return {
    ...adapter,
    async getUserByAccount(account) {
      const found = await adapter.getUserByAccount(account);
      arrived += 1;
      if (arrived >= parties) {
        clearTimeout(safety);
        release();
      }
      await gate;
      return found;
    },
  };
}

/**
 * Browsers complete the provider's login for one new identity, then all
 * come back at once; with `held`, their lookups are held together so that
 * every one of them goes on to create the user.
 */
export async function oidcFirstSignInRace(
  store: UserEngineStore,
  idp: LocalIdp,
  options: { browsers?: number; held?: boolean } = {},
): Promise<void> {
  const browsers = options.browsers ?? 20;
  const opened = await adapterOn(store);
  const adapter = options.held === true ? lookupsHeldTogether(opened.adapter, browsers) : opened.adapter;
  const sub = `racer-${Math.random().toString(36).slice(2)}`;
  idp.accounts.set(sub, { email: `${sub}@example.com`, name: 'Racer' });
  const config = authConfig(adapter, { issuer: idp.issuer });
  const ready: [Browser, string][] = [];
  for (let i = 0; i < browsers; i++) {
    const browser = new Browser(config);
    ready.push([browser, await oidcUntilCallback(browser, sub)]);
  }
  const outcomes = await Promise.all(ready.map(([browser, url]) => browser.auth(url)));
  const signedIn = outcomes.filter((r) => !location(r).includes('error'));
  if (process.env.AUTHJS_RACE_DEBUG) console.log(`race: ${signedIn.length} of ${browsers} signed in`);
  assert.ok(signedIn.length >= 1, 'at least one sign-in succeeds');
  if (options.held === true) {
    // All found no user and tried to create it: one did; the others were refused before writing anything.
    assert.equal(signedIn.length, 1);
    assert.equal((await store.readAudit({ limit: 1000 })).filter((e) => e.action === 'user.registered').length, 1);
  }
  const counts = await store.recordCounts();
  assert.equal(counts.records.user, 1, 'one user');
  assert.equal(counts.records['authjs-account'], 1, 'one account');
  assert.equal(counts.records['user-identity'], 1, 'one identity');
  assert.equal(counts.records['authjs-session'], signedIn.length, 'a session per successful sign-in');
  const [user] = await store.listRecords('user');
  assert.deepEqual(user?.data.identities, [{ provider: 'local-oidc', subject: sub }], 'the user is linked: no orphan');
  assert.deepEqual((await checkUserInvariants(store)).failures, []);
  // The ones that lost can simply sign in again.
  const retry = new Browser(config);
  const after = await retry.auth(await oidcUntilCallback(retry, sub));
  assert.ok(!location(after).includes('error'));
  assert.equal((await store.recordCounts()).records.user, 1);
}

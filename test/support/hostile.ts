import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserEngine, UserEngineError, type UserEngineStore } from '../../src/index.js';

/**
 * Property-based hostile input for every command: each input either succeeds
 * and reads back exactly (as the documented normalization says), or is a
 * ValidationError with nothing written. Never a driver error, never a crash,
 * never a silently changed value.
 */

const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDC00y',
  '\u202Eevil\u202C',
  '\u200B\u200F\uFEFF',
  'line\nbreak',
  'tab\tcontrol\u0007',
  '\u2028\u2029',
  `'; DROP TABLE records; --`,
  `" OR 1=1 --`,
  "$1 $$ $$body$$ \\x00 E'\\n'",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder is the hostile input.
  '%s%n{0}${x}',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0301\u0301',
  'Ω≈ç√∫',
  '__proto__',
  'constructor',
  'x'.repeat(255),
  'x'.repeat(300),
  '€'.repeat(70_000),
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 190, maxLength: 260 }) },
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant({ toString: () => 'sneaky' }),
  fc.constant(new Date(0)),
  fc.constant(10n),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: wrongType },
);

const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', '\u0000', '\uD800', 'toJSON'),
  fc.string({ maxLength: 10 }),
);

export const hostileAttributes: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(hostileKey, fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 }),
  fc.integer({ min: 10, max: 20 }).map((depth) => {
    let v: unknown = { leaf: true };
    for (let i = 0; i < depth; i++) v = { d: v };
    return v;
  }),
  fc.constantFrom(
    { big: 'y'.repeat(33 * 1024) },
    { list: Array.from({ length: 3000 }, (_, i) => i) },
    JSON.parse('{"__proto__":{"polluted":1}}'),
  ),
  wrongType,
);

/** Valid but hostile-looking text: quotes, SQL, bidi controls that are not control characters, emoji, combining marks. */
const validText = fc.oneof(
  fc.constantFrom(
    `'; DROP TABLE records; --`,
    '" OR 1=1',
    '\u202Eevil\u202C',
    '👩‍👩‍👧‍👦 Zoë',
    'e\u0301\u0301',
    '$1 $$x$$',
    '__proto__',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((t) => !/[\p{Cc}\u2028\u2029]/u.test(t)),
);
const validEmail = fc.oneof(
  fc.emailAddress().filter((e) => e.length < 200 && e.split('@')[1]?.includes('.') === true),
  fc.constantFrom('Ada.Lovelace@Example.COM', "o'brien@example.ie", 'zoë@bücher.example', '  padded@example.com  '),
);
const validHandle = fc.stringMatching(/^[A-Za-z0-9_]{3,32}$/);
const validLocale = fc.constantFrom('en', 'EN-us', 'zh-hant-tw', 'sr-Latn-RS', 'de-CH-1996', 'x-private');
const validRole = fc.stringMatching(/^[a-z][a-z0-9_.:-]{0,20}$/);
const validProvider = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/);
/** ISO-8601 times with a zone, as `verifyEmail` takes them: UTC with milliseconds, or an offset. */
const validTimestamp = fc
  .tuple(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }), fc.boolean())
  .map(([date, offset]) => (offset ? date.toISOString().replace('Z', '+00:00') : date.toISOString()));
const validAttributes = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

/**
 * How an input object reaches the engine: as plain data (`plain`, and a
 * null-prototype object, which is plain data too), or in a form that is not
 * plain data and must be refused whatever it holds — a getter whose second
 * read differs from its first, a proxy, a class instance, an unknown key (a
 * typo), a symbol key.
 */
export type InputForm = 'plain' | 'nullProto' | 'getter' | 'proxy' | 'classInstance' | 'unknownKey' | 'symbolKey';
const exoticForm = fc.constantFrom<InputForm>(
  'nullProto',
  'getter',
  'proxy',
  'classInstance',
  'unknownKey',
  'symbolKey',
);
/** The forms of the input and of the context: mostly both plain, otherwise one of them exotic. */
const forms: fc.Arbitrary<[InputForm, InputForm]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<[InputForm, InputForm]>(['plain', 'plain']) },
  { weight: 2, arbitrary: exoticForm.map((form): [InputForm, InputForm] => [form, 'plain']) },
  { weight: 2, arbitrary: exoticForm.map((form): [InputForm, InputForm] => ['plain', form]) },
);
export const REFUSED_FORMS: ReadonlySet<InputForm> = new Set([
  'getter',
  'proxy',
  'classInstance',
  'unknownKey',
  'symbolKey',
]);

class Holder {}

/** `input` in the given form; `typo` is the unknown key a caller could mistype. */
export function inForm(input: Record<string, unknown>, form: InputForm, typo: string): object {
  switch (form) {
    case 'plain':
      return { ...input };
    case 'nullProto':
      return Object.assign(Object.create(null) as object, input);
    case 'getter': {
      const [first = 'x'] = Object.keys(input);
      let reads = 0;
      return Object.defineProperty({ ...input }, first, {
        enumerable: true,
        get: () => (++reads === 1 ? input[first] : 5n),
      });
    }
    case 'proxy':
      return new Proxy({ ...input }, {});
    case 'classInstance':
      return Object.assign(new Holder(), input);
    case 'unknownKey':
      return { ...input, [typo]: 1 };
    case 'symbolKey':
      return { ...input, [Symbol('hidden')]: 1 };
  }
}

/** Half valid, half hostile: properties need both outcomes to say anything. */
const either = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown> = hostileValue) =>
  fc.oneof({ weight: 2, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: hostile });

export type HostileCommand =
  | 'registerUser'
  | 'updateProfile'
  | 'changeEmail'
  | 'verifyEmail'
  | 'changeHandle'
  | 'linkIdentity'
  | 'grantRole'
  | 'suspendUser';

export const HOSTILE_COMMANDS: readonly HostileCommand[] = [
  'registerUser',
  'updateProfile',
  'changeEmail',
  'verifyEmail',
  'changeHandle',
  'linkIdentity',
  'grantRole',
  'suspendUser',
];

/** Runs one command with hostile input against a fresh or shared store and checks the outcome. */
export async function checkHostileCommand(
  store: UserEngineStore,
  command: HostileCommand,
  runs: number,
  /** A fixed fast-check seed, for short runs whose outcome counts must not depend on luck. */
  seed?: number,
): Promise<{ accepted: number; rejected: number; refusedForms: number }> {
  const engine = new UserEngine({ store });
  let serial = 0;
  const tally = { accepted: 0, rejected: 0, refusedForms: 0 };
  const target = await engine.registerUser(
    { actor: 'setup' },
    { email: `target.${command}.${Date.now()}@example.com` },
  );

  const arbitrary: fc.Arbitrary<Record<string, unknown>> = {
    registerUser: fc.record(
      {
        email: either(validEmail),
        handle: either(validHandle),
        displayName: either(validText),
        locale: either(validLocale),
        attributes: either(validAttributes, hostileAttributes),
      },
      { requiredKeys: ['email'] },
    ),
    updateProfile: fc.record(
      {
        displayName: either(validText),
        locale: either(validLocale),
        attributes: either(validAttributes, hostileAttributes),
      },
      { requiredKeys: [] },
    ),
    changeEmail: fc.record({ email: either(validEmail) }),
    verifyEmail: fc.record({ verifiedAt: either(validTimestamp) }),
    changeHandle: fc.record({ handle: either(validHandle) }),
    linkIdentity: fc.record({ provider: either(validProvider), subject: either(validText) }),
    grantRole: fc.record({ role: either(validRole) }),
    suspendUser: fc.record({ reason: either(validText) }),
  }[command];

  const objectInput = ['registerUser', 'updateProfile', 'linkIdentity', 'suspendUser'].includes(command);
  await fc.assert(
    fc.asyncProperty(
      arbitrary,
      fc.option(hostileString, { nil: undefined }),
      forms,
      async (raw, actor, [form, contextForm]) => {
        serial += 1;
        // Typos a caller could make: `expectedversion` switching optimistic concurrency off, `verified` dropped.
        const ctx = inForm({ actor: actor ?? 'hostile' }, contextForm, 'expectedversion') as { actor: string };
        const input = raw;
        const shape = (value: Record<string, unknown>) => (objectInput ? inForm(value, form, 'verified') : value);
        const mustRefuse = REFUSED_FORMS.has(contextForm) || (objectInput && REFUSED_FORMS.has(form));
        const before = await store.recordCounts();
        // Unique prefixes keep uniqueness rules out of the way: only validation decides.
        const unique = (v: unknown) => (typeof v === 'string' ? `${command}${serial}x${v}` : v);
        let call: () => Promise<unknown>;
        // Commands with a per-user limit are undone after each success, so the limit never decides.
        let undo: (() => Promise<unknown>) | undefined;
        let expectation: (user: Record<string, unknown>) => void;
        const id = target.id;
        switch (command) {
          case 'registerUser': {
            const email = typeof input.email === 'string' ? `u${serial}.${input.email.trimStart()}` : input.email;
            const handle =
              typeof input.handle === 'string' && /^[A-Za-z0-9_]{3,24}$/.test(input.handle)
                ? `${input.handle}_${serial}`
                : input.handle;
            const args = { ...input, email, ...(input.handle === undefined ? {} : { handle }) };
            call = () => engine.registerUser(ctx, shape(args) as never);
            expectation = (u) => expectProfile(u, args);
            break;
          }
          case 'updateProfile':
            call = () => engine.updateProfile(ctx, id, shape(input) as never);
            expectation = (u) => expectProfile(u, input);
            break;
          case 'changeEmail': {
            const email = typeof input.email === 'string' ? `c${serial}.${input.email.trimStart()}` : input.email;
            call = () => engine.changeEmail(ctx, id, email as never);
            expectation = (u) => assert.equal(u.email, (email as string).trim());
            break;
          }
          case 'verifyEmail':
            call = () => engine.verifyEmail(ctx, id, input.verifiedAt as never);
            // Left out: now, by the engine's clock.
            expectation = (u) =>
              input.verifiedAt === undefined
                ? assert.match(String(u.emailVerifiedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
                : assert.equal(u.emailVerifiedAt, new Date(input.verifiedAt as string).toISOString());
            break;
          case 'changeHandle':
            call = () => engine.changeHandle(ctx, id, input.handle as never);
            expectation = (u) =>
              assert.equal(u.handle, typeof input.handle === 'string' ? input.handle.toLowerCase() : null);
            break;
          case 'linkIdentity': {
            const identity = { provider: input.provider, subject: unique(input.subject) };
            call = () => engine.linkIdentity(ctx, id, shape(identity) as never);
            undo = () => engine.unlinkIdentity({ actor: 'hostile' }, id, identity as never);
            expectation = (u) => assert.deepEqual((u.identities as unknown[]).at(-1), identity);
            break;
          }
          case 'grantRole':
            call = () => engine.grantRole(ctx, id, input.role as never);
            undo = () => engine.revokeRole({ actor: 'hostile' }, id, input.role as never);
            expectation = (u) => assert.ok((u.roles as string[]).includes(input.role as string));
            break;
          case 'suspendUser':
            call = () => engine.suspendUser(ctx, id, shape(input) as never);
            undo = () => engine.reactivateUser({ actor: 'hostile' }, id);
            expectation = (u) => assert.equal(u.status, 'suspended');
            break;
        }
        let returned: unknown;
        try {
          returned = await call();
        } catch (error) {
          // Taken or invalid-state outcomes can only come from valid input; anything else must be invalid_input.
          assert.ok(
            UserEngineError.is(error, 'invalid_input'),
            `${command} threw ${String(error)} for ${fc.stringify(input)}`,
          );
          assert.deepEqual(await store.recordCounts(), before, 'a rejected command wrote something');
          tally.rejected += 1;
          if (mustRefuse) tally.refusedForms += 1;
          return;
        }
        assert.ok(!mustRefuse, `${command} accepted input that is not plain data (${form}, context ${contextForm})`);
        tally.accepted += 1;
        const user = returned as Record<string, unknown>;
        expectation(user);
        const stored = await engine.getUser(user.id as string);
        assert.deepEqual(stored, user, 'the stored user differs from the one returned');
        await undo?.();
      },
    ),
    seed === undefined ? { numRuns: runs } : { numRuns: runs, seed },
  );
  return tally;
}

/** What a successful register or profile update must have stored, per the documented normalization. */
function expectProfile(user: Record<string, unknown>, input: Record<string, unknown>): void {
  if ('displayName' in input && input.displayName !== undefined) assert.equal(user.displayName, input.displayName);
  if ('locale' in input && typeof input.locale === 'string') {
    assert.equal(user.locale, Intl.getCanonicalLocales(input.locale)[0]);
  }
  if ('attributes' in input && input.attributes !== undefined) {
    assert.deepEqual(user.attributes, JSON.parse(JSON.stringify(input.attributes)));
  }
  if (typeof input.email === 'string') assert.equal(user.email, input.email.trim());
  if (typeof input.handle === 'string') assert.equal(user.handle, input.handle.toLowerCase());
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
}

import type { CommandContext, ProfilePatch, UserEngine } from '../engine/engine.js';
import type { User } from '../engine/user.js';
import type { JsonObject } from '../store/json.js';
import type { Options } from './args.js';
import { type CommandSpec, optional, type PreparedCommand, WRITE_OPTIONS } from './command.js';
import { UsageError } from './errors.js';
import { userText } from './format.js';
import { identityOption } from './user-queries.js';

/** Who acts (`--actor`, default `cli`) and the version they last read (`--expected-version`). */
function commandContext(options: Options): CommandContext {
  return {
    actor: options.string('actor') ?? 'cli',
    ...optional('expectedVersion', options.integer('expected-version', 1)),
  };
}

/** `--attributes`: a JSON object (the engine checks what is in it). */
function attributesOption(options: Options): JsonObject | undefined {
  const text = options.string('attributes');
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--attributes must be JSON, e.g. '{"plan":"pro"}'`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--attributes must be a JSON object, e.g. '{"plan":"pro"}'`);
  }
  return parsed as JsonObject;
}

/** `--NAME VALUE` sets, `--clear-NAME` clears (null), neither leaves it alone; both is a usage error. */
function settable(options: Options, name: 'display-name' | 'locale' | 'handle'): string | null | undefined {
  const clear = `clear-${name}` as const;
  options.oneOf([name, clear], false, `--${name}`);
  return options.flag(clear) ? null : options.string(name);
}

/** A write about one existing user: `users VERB ID …`, printing the user as it stands afterwards. */
function userWrite(
  spec: Omit<CommandSpec, 'args' | 'store' | 'prepare'> & { extraArgs?: readonly string[] },
  build: (
    options: Options,
    extra: readonly string[],
  ) => (engine: UserEngine, context: CommandContext, id: string) => Promise<User>,
  done: string,
): CommandSpec {
  return {
    ...spec,
    args: ['ID', ...(spec.extraArgs ?? [])],
    options: [...spec.options, ...WRITE_OPTIONS],
    store: 'existing',
    prepare: ([id = '', ...extra], options): PreparedCommand => {
      const context = commandContext(options);
      const command = build(options, extra);
      return async ({ engine }) => {
        const user = await command(engine, context, id);
        return { json: user, text: `${done}\n${userText(user)}` };
      };
    },
  };
}

const register: CommandSpec = {
  name: 'users register',
  synopsis: '--email E [--handle H] [--display-name N] [--locale L] [--attributes JSON]',
  summary: 'register a user',
  args: [],
  options: ['email', 'handle', 'display-name', 'locale', 'attributes', 'actor'],
  // The first registration is what creates the embedded database.
  store: 'create',
  prepare: (_args, options) => {
    const context = commandContext(options);
    const input = {
      email: options.required('email'),
      ...optional('handle', options.string('handle')),
      ...optional('displayName', options.string('display-name')),
      ...optional('locale', options.string('locale')),
      ...optional('attributes', attributesOption(options)),
    };
    return async ({ engine }) => {
      const user = await engine.registerUser(context, input);
      return { json: user, text: `registered\n${userText(user)}` };
    };
  },
};

const update = userWrite(
  {
    name: 'users update',
    synopsis:
      'ID [--display-name N | --clear-display-name] [--locale L | --clear-locale] [--attributes JSON] [--expected-version V]',
    summary: 'change the profile: display name, locale, attributes (replaced whole)',
    options: ['display-name', 'clear-display-name', 'locale', 'clear-locale', 'attributes'],
  },
  (options) => {
    const patch: ProfilePatch = {
      ...optional('displayName', settable(options, 'display-name')),
      ...optional('locale', settable(options, 'locale')),
      ...optional('attributes', attributesOption(options)),
    };
    if (Object.keys(patch).length === 0) {
      throw new UsageError(
        'users update needs at least one of --display-name, --clear-display-name, --locale, --clear-locale, --attributes',
      );
    }
    return (engine, context, id) => engine.updateProfile(context, id, patch);
  },
  'updated',
);

const changeEmail = userWrite(
  {
    name: 'users change-email',
    synopsis: 'ID --email E [--expected-version V]',
    summary: 'move the user to another email address',
    options: ['email'],
  },
  (options) => {
    const email = options.required('email');
    return (engine, context, id) => engine.changeEmail(context, id, email);
  },
  'email changed',
);

const changeHandle = userWrite(
  {
    name: 'users change-handle',
    synopsis: 'ID (--handle H | --clear-handle) [--expected-version V]',
    summary: 'set, change or clear the handle',
    options: ['handle', 'clear-handle'],
  },
  (options) => {
    options.oneOf(['handle', 'clear-handle'], true, 'users change-handle');
    const handle = settable(options, 'handle') ?? null;
    return (engine, context, id) => engine.changeHandle(context, id, handle);
  },
  'handle changed',
);

const verifyEmail = userWrite(
  {
    name: 'users verify-email',
    synopsis: 'ID [--verified-at ISO-8601] [--expected-version V]',
    summary: 'record that the user proved they own their email address (now, or at --verified-at)',
    options: ['verified-at'],
  },
  (options) => {
    const at = options.string('verified-at');
    return (engine, context, id) => engine.verifyEmail(context, id, at);
  },
  'email verified',
);

const unverifyEmail = userWrite(
  {
    name: 'users unverify-email',
    synopsis: 'ID [--expected-version V]',
    summary: "withdraw the verification of the user's email address (e.g. mail to it bounces)",
    options: [],
  },
  () => (engine, context, id) => engine.unverifyEmail(context, id),
  'email verification withdrawn',
);

function roleWrite(name: 'grant-role' | 'revoke-role', summary: string, done: string): CommandSpec {
  return userWrite(
    { name: `users ${name}`, synopsis: 'ID ROLE [--expected-version V]', summary, options: [], extraArgs: ['ROLE'] },
    (_options, [role = '']) =>
      (engine, context, id) =>
        name === 'grant-role' ? engine.grantRole(context, id, role) : engine.revokeRole(context, id, role),
    done,
  );
}

function identityWrite(name: 'link-identity' | 'unlink-identity', summary: string, done: string): CommandSpec {
  return userWrite(
    {
      name: `users ${name}`,
      synopsis: 'ID --identity PROVIDER:SUBJECT [--expected-version V]',
      summary,
      options: ['identity'],
    },
    (options) => {
      const identity = identityOption(options.required('identity'));
      return (engine, context, id) =>
        name === 'link-identity'
          ? engine.linkIdentity(context, id, identity)
          : engine.unlinkIdentity(context, id, identity);
    },
    done,
  );
}

const suspend = userWrite(
  {
    name: 'users suspend',
    synopsis: 'ID --reason TEXT [--expected-version V]',
    summary: 'suspend a user (the reason is kept on the user, not in the audit log)',
    options: ['reason'],
  },
  (options) => {
    const reason = options.required('reason');
    return (engine, context, id) => engine.suspendUser(context, id, { reason });
  },
  'suspended',
);

const reactivate = userWrite(
  {
    name: 'users reactivate',
    synopsis: 'ID [--expected-version V]',
    summary: 'reactivate a suspended user',
    options: [],
  },
  () => (engine, context, id) => engine.reactivateUser(context, id),
  'reactivated',
);

const erase = userWrite(
  {
    name: 'users erase',
    synopsis: 'ID [--expected-version V]',
    summary: 'erase a user: personal data removed everywhere, a tombstone kept',
    options: [],
  },
  () => (engine, context, id) => engine.eraseUser(context, id),
  'erased: personal data removed, tombstone kept',
);

export const USER_COMMANDS: readonly CommandSpec[] = [
  register,
  update,
  changeEmail,
  verifyEmail,
  unverifyEmail,
  changeHandle,
  roleWrite('grant-role', 'grant a role', 'role granted'),
  roleWrite('revoke-role', 'revoke a role', 'role revoked'),
  identityWrite('link-identity', 'link an external identity (one user per identity)', 'identity linked'),
  identityWrite('unlink-identity', 'unlink an external identity', 'identity unlinked'),
  suspend,
  reactivate,
  erase,
];

import type { User } from '../engine/user.js';
import { MAX_PAGE_LIMIT } from '../store/queries.js';
import { type CommandResult, type CommandSpec, optional } from './command.js';
import { CliError, UsageError } from './errors.js';
import { nextPageLine, usersTable, userText } from './format.js';

/** A found user, or `not_found` (exit 1) in words that do not repeat what was looked up. */
function found(user: User | null, what: string): CommandResult {
  if (user === null) throw new CliError('not_found', `no user has ${what}`);
  return { json: user, text: userText(user) };
}

/** `provider:subject`, split at the first colon. */
export function identityOption(value: string): { provider: string; subject: string } {
  const colon = value.indexOf(':');
  if (colon < 1 || colon === value.length - 1) throw new UsageError('--identity must look like PROVIDER:SUBJECT');
  return { provider: value.slice(0, colon), subject: value.slice(colon + 1) };
}

const get: CommandSpec = {
  name: 'users get',
  synopsis: 'ID',
  summary: 'show one user (exit 1 if there is none)',
  args: ['ID'],
  options: [],
  store: 'existing',
  prepare: ([id = '']) => {
    return async ({ engine }) => found(await engine.getUser(id), 'that id');
  },
};

const find: CommandSpec = {
  name: 'users find',
  synopsis: '--email E | --handle H | --identity PROVIDER:SUBJECT',
  summary: 'find a user by email (any spelling), handle or linked identity (exit 1 if none)',
  args: [],
  options: ['email', 'handle', 'identity'],
  store: 'existing',
  prepare: (_args, options) => {
    const by = options.oneOf(['email', 'handle', 'identity'], true, 'users find');
    const value = options.required(by ?? 'email');
    if (by === 'identity') {
      const { provider, subject } = identityOption(value);
      return async ({ engine }) => found(await engine.findUserByIdentity(provider, subject), 'that identity linked');
    }
    if (by === 'handle') return async ({ engine }) => found(await engine.findUserByHandle(value), 'that handle');
    return async ({ engine }) => found(await engine.findUserByEmail(value), 'that email address');
  },
};

const list: CommandSpec = {
  name: 'users list',
  synopsis: '[--after ID] [--limit N]',
  summary: `a page of users by id (default 100, at most ${MAX_PAGE_LIMIT}); prints the command for the next page`,
  args: [],
  options: ['after', 'limit'],
  store: 'existing',
  prepare: (_args, options) => {
    const after = options.string('after');
    const limit = options.integer('limit', 1, MAX_PAGE_LIMIT);
    return async ({ engine }) => {
      const page = await engine.listUsers({ ...optional('after', after), ...optional('limit', limit) });
      const limitFlag = limit === undefined ? '' : ` --limit ${limit}`;
      const more = nextPageLine(page.next, `user-engine users list --after ${page.next}${limitFlag}`);
      return { json: page, text: `${usersTable(page.users)}${more}` };
    };
  },
};

export const USER_QUERIES: readonly CommandSpec[] = [get, find, list];

import { showable } from './args.js';
import type { CommandSpec } from './command.js';
import { DEMO } from './demo.js';
import { UsageError } from './errors.js';
import { LOG_COMMANDS } from './log-commands.js';
import { RELAY_COMMANDS } from './relay-commands.js';
import { SCHEMA_COMMANDS } from './schema-commands.js';
import { didYouMean } from './suggest.js';
import { USER_COMMANDS } from './user-commands.js';
import { USER_QUERIES } from './user-queries.js';

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  DEMO,
  ...SCHEMA_COMMANDS,
  ...USER_QUERIES,
  ...USER_COMMANDS,
  ...LOG_COMMANDS,
  ...RELAY_COMMANDS,
];

/** Words that take a second word naming the command: `users`, `delivery`. */
export const GROUPS: readonly string[] = [
  ...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] ?? c.name)),
];

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));
const TOP_LEVEL = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0] ?? c.name)), 'help'];

export function commandsOf(group: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `));
}

export type Resolved =
  | { kind: 'command'; spec: CommandSpec; args: string[] }
  /** A group named without its command (`users`): only help can be shown. */
  | { kind: 'group'; group: string }
  | { kind: 'none' };

/** Finds the command the words name; the rest are its arguments. Unknown names get a suggestion. */
export function resolveCommand(words: readonly string[]): Resolved {
  const [first, second, ...rest] = words;
  if (first === undefined) return { kind: 'none' };
  if (GROUPS.includes(first)) {
    if (second === undefined) return { kind: 'group', group: first };
    const spec = BY_NAME.get(`${first} ${second}`);
    if (spec !== undefined) return { kind: 'command', spec, args: rest };
    const actions = commandsOf(first).map((c) => c.name.slice(first.length + 1));
    throw new UsageError(
      `unknown ${first} command${shown(second)}${didYouMean(second, actions, (a) => `"${first} ${a}"`)} (see user-engine ${first} --help)`,
    );
  }
  const spec = BY_NAME.get(first);
  if (spec !== undefined) return { kind: 'command', spec, args: second === undefined ? [] : [second, ...rest] };
  throw new UsageError(
    `unknown command${shown(first)}${didYouMean(first, TOP_LEVEL, (c) => `"${c}"`)} (see user-engine --help)`,
  );
}

function shown(word: string): string {
  return showable(word) ? ` "${word}"` : '';
}

import type { UserEngine } from '../engine/engine.js';
import type { OptionName, Options } from './args.js';
import type { LazyStore } from './lazy-store.js';
import type { EmbeddedUse } from './open-store.js';
import type { StoreSelection } from './store-selection.js';

/** What a command hands back: data for `--json`, text for people, and the exit code. */
export interface CommandResult {
  json: unknown;
  text: string;
  exitCode?: number;
  /** Print the JSON on one line (a command that streamed JSON lines before it). */
  jsonLine?: boolean;
}

/** Where a long-running command writes as it goes. */
export interface Stream {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress may redraw one line). */
  readonly interactive: boolean;
  /** Whether the output is JSON. */
  readonly json: boolean;
}

/** The chosen store (opened on first use) and the engine on it. */
export interface Session {
  readonly store: LazyStore;
  readonly engine: UserEngine;
  readonly selection: StoreSelection;
  /** Where the data lives, in words (never a password). */
  readonly where: string;
  /** `user-engine migrate` with the store options this run was given, for messages. */
  readonly migrateCommand: string;
  /** Output as the command runs (the result is printed after it). */
  readonly stream: Stream;
}

/** A command whose arguments were checked: running it is all that is left. */
export type PreparedCommand = (session: Session) => Promise<CommandResult>;

/**
 * One command of the tool. `prepare` checks the arguments and options —
 * with no store in reach, so that a mistake never opens, creates or
 * connects to anything — and returns what runs the command.
 */
export interface CommandSpec {
  /** As typed: `status`, `users register`. */
  readonly name: string;
  /** What follows the name in the usage line: `ID --reason TEXT`. */
  readonly synopsis: string;
  readonly summary: string;
  /** More help, shown by `--help`. */
  readonly details?: string;
  /** The positional arguments, by their names in the synopsis. */
  readonly args: readonly string[];
  /** Options beyond the store and output options every command takes. */
  readonly options: readonly OptionName[];
  /** How the command uses an embedded database; `none` opens no store at all. */
  readonly store: EmbeddedUse | 'none' | ((options: Options) => EmbeddedUse | 'none');
  prepare(args: readonly string[], options: Options): PreparedCommand;
}

/** The store and output options every command takes. */
export const COMMON_OPTIONS: readonly OptionName[] = [
  'database-url',
  'memory',
  'schema',
  'data-dir',
  'no-prepare',
  'timeout',
  'json',
  'verbose',
  'help',
];

/** Options every command that writes takes. */
export const WRITE_OPTIONS: readonly OptionName[] = ['actor', 'expected-version'];

/** `{ [name]: value }` when the value is given, `{}` otherwise (exactOptionalPropertyTypes-friendly). */
export function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

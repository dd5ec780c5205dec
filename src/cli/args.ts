import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

/** Every option the tool knows, with whether it takes a value. Which command accepts which is in commands.ts. */
export const OPTION_TYPES = {
  // store selection and output, for every command that opens a store
  'database-url': 'string',
  memory: 'boolean',
  schema: 'string',
  'data-dir': 'string',
  'no-prepare': 'boolean',
  timeout: 'string',
  json: 'boolean',
  verbose: 'boolean',
  help: 'boolean',
  version: 'boolean',
  // commands
  actor: 'string',
  'expected-version': 'string',
  email: 'string',
  handle: 'string',
  'clear-handle': 'boolean',
  'display-name': 'string',
  'clear-display-name': 'boolean',
  locale: 'string',
  'clear-locale': 'boolean',
  attributes: 'string',
  identity: 'string',
  reason: 'string',
  'verified-at': 'string',
  after: 'string',
  'after-seq': 'string',
  limit: 'string',
  'record-key': 'string',
  'print-sql': 'boolean',
  from: 'string',
  to: 'string',
  'relay-id': 'string',
  batch: 'string',
  concurrency: 'string',
  'lease-ms': 'string',
  'max-attempts': 'string',
  'interval-ms': 'string',
  'until-empty': 'boolean',
  state: 'string',
  'delivered-before': 'string',
} as const satisfies Record<string, 'string' | 'boolean'>;

export type OptionName = keyof typeof OPTION_TYPES;

const SHORT: Record<string, OptionName> = { h: 'help' };

/** The command line split into words (the command, then its arguments) and options. */
export interface CommandLine {
  words: string[];
  options: Map<OptionName, string | true>;
  /** An option name that is not one of ours, as typed (shown only if it looks like an option name). */
  unknownOption?: string;
}

/** Option and command names may be echoed back; anything else the user typed may be personal data and is not. */
export function showable(word: string): boolean {
  return /^-{0,2}[A-Za-z][A-Za-z0-9-]{0,39}$/.test(word);
}

/**
 * Reads the command line. Unlike `util.parseArgs` it takes a value that
 * starts with `-` (`--limit -5`, then refused as a number), refuses an option
 * given twice, and keeps an unknown option aside so it can be reported with
 * a suggestion once the command is known. Its messages never quote a value.
 */
export function readCommandLine(argv: readonly string[]): CommandLine {
  const words: string[] = [];
  const options = new Map<OptionName, string | true>();
  let unknownOption: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      words.push(token);
      continue;
    }
    const long = token.startsWith('--');
    const eq = token.indexOf('=');
    const rawName = long ? token.slice(2, eq < 0 ? undefined : eq) : token.slice(1);
    const name: OptionName | undefined = long ? asOptionName(rawName) : SHORT[rawName];
    if (name === undefined) {
      unknownOption ??= long ? `--${rawName}` : token;
      continue;
    }
    if (options.has(name)) throw new UsageError(`--${name} is given more than once`);
    if (OPTION_TYPES[name] === 'boolean') {
      if (long && eq >= 0) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
      continue;
    }
    if (long && eq >= 0) {
      options.set(name, token.slice(eq + 1));
      continue;
    }
    const value = argv[i + 1];
    // A following option (--json) is not a value; a following `-5` is one (and may then be refused as such).
    if (value === undefined || (value.startsWith('--') && value.length > 2)) {
      throw new UsageError(`--${name} needs a value`);
    }
    options.set(name, value);
    i++;
  }
  return { words, options, ...(unknownOption === undefined ? {} : { unknownOption }) };
}

function asOptionName(name: string): OptionName | undefined {
  return Object.hasOwn(OPTION_TYPES, name) ? (name as OptionName) : undefined;
}

/** The error for an option that is not ours, with the closest of `allowed`. */
export function unknownOptionError(typed: string, allowed: readonly string[], where: string): UsageError {
  const shown = showable(typed) ? typed : 'an option';
  const name = typed.replace(/^-+/, '');
  const hint = didYouMean(name, allowed, (o) => `--${o}`);
  return new UsageError(`unknown option ${shown}${where}${hint} (see ${helpCommand(where)})`);
}

function helpCommand(where: string): string {
  const command = where.replace(/^ for /, '').trim();
  return command === '' ? 'user-engine --help' : `user-engine ${command} --help`;
}

/** Typed access to the options of one command, with the checks every command shares. */
export class Options {
  readonly #options: Map<OptionName, string | true>;
  constructor(options: Map<OptionName, string | true>) {
    this.#options = options;
  }

  has(name: OptionName): boolean {
    return this.#options.has(name);
  }

  flag(name: OptionName): boolean {
    return this.#options.get(name) === true;
  }

  string(name: OptionName): string | undefined {
    const value = this.#options.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  required(name: OptionName, why = ''): string {
    const value = this.string(name);
    if (value === undefined) throw new UsageError(`--${name} is required${why}`);
    return value;
  }

  /** A whole number within [min, max]; anything else is a usage error that does not repeat the value. */
  integer(name: OptionName, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new UsageError(`--${name} must be a whole number ${range}`);
    }
    return n;
  }

  /** At most one of `names`; `exactlyOne` makes it exactly one. */
  oneOf(names: readonly OptionName[], exactlyOne: boolean, what: string): OptionName | undefined {
    const given = names.filter((n) => this.#options.has(n));
    if (given.length > 1 || (exactlyOne && given.length === 0)) {
      const list = names.map((n) => `--${n}`).join(', ');
      throw new UsageError(`${what} needs ${exactlyOne ? 'exactly' : 'at most'} one of ${list}`);
    }
    return given[0];
  }
}

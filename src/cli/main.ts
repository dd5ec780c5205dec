#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserEngine } from '../engine/engine.js';
import { UserEngineError } from '../store/errors.js';
import {
  auditCommand,
  type CommandResult,
  countsText,
  outboxCommand,
  readinessText,
  stringOption,
  UsageError,
  usersCommand,
  type Values,
} from './commands.js';
import { runDemo } from './demo.js';
import { EmbeddedDirectoryBusyError } from './embedded-lock.js';
import { MissingDriverError, type OpenedStore, openStore } from './open-store.js';

const GLOBAL_HELP = `user-engine — user accounts with an audit log and a transactional outbox

usage: user-engine <command> [options]

commands:
  demo                      a scripted lifecycle that shows every part of the engine
  migrate                   apply pending schema versions
  status                    schema readiness; exit 0 when ready, 1 when not (a readiness probe)
  counts                    redacted record counts (numbers only)
  users register|get|find|list|suspend|reactivate|erase
  audit                     the audit log, oldest first
  outbox                    pending outbox messages, oldest first

store selection (one of):
  --database-url URL        PostgreSQL through node-postgres (or set DATABASE_URL); never migrated implicitly
  --memory                  a throw-away in-memory store
  (default)                 the embedded PGlite database in ./.user-engine, migrated automatically

options:
  --schema NAME             Postgres schema (default user_engine)
  --data-dir DIR            embedded database directory (default ./.user-engine)
  --actor NAME              who is acting, for the audit log (default cli)
  --json                    machine-readable output
  --verbose                 show stack traces on errors
  -h, --help                help for any command: user-engine users --help`;

const HELP: Record<string, string> = {
  demo: `usage: user-engine demo [--memory | --database-url URL] [--json]

Registers three users, updates a profile, changes an email, links an identity,
grants roles, suspends and reactivates one user and erases another, then prints
the audit tail, the pending outbox and the redacted counts. Safe to run again.`,
  migrate: `usage: user-engine migrate [--database-url URL] [--schema NAME] [--json]

Applies the schema versions the database lacks, each in its own transaction
under an advisory lock; safe to run from several processes at once. Refuses a
database whose schema is newer than this code with breaking changes.`,
  status: `usage: user-engine status [--database-url URL] [--schema NAME] [--json]

Prints the schema version and what is pending. Exit code 0 when the store is
ready for this code, 1 when it is not: use it as a deployment readiness probe.`,
  counts: `usage: user-engine counts [--json]

Records per kind, audit entries and pending outbox messages: numbers only.`,
  users: `usage:
  user-engine users register --email E [--handle H] [--display-name N] [--locale L] [--attributes JSON]
  user-engine users get ID
  user-engine users find --email E | --handle H | --identity PROVIDER:SUBJECT
  user-engine users list [--after ID] [--limit N]
  user-engine users suspend ID --reason TEXT
  user-engine users reactivate ID
  user-engine users erase ID

Commands take --actor NAME (default cli) for the audit log.`,
  audit: `usage: user-engine audit [--after-seq N] [--limit N] [--record-key KIND:ID] [--json]`,
  outbox: `usage: user-engine outbox [--after-seq N] [--limit N] [--json]`,
};

const OPTIONS = {
  'database-url': { type: 'string' },
  memory: { type: 'boolean' },
  schema: { type: 'string' },
  'data-dir': { type: 'string' },
  actor: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  email: { type: 'string' },
  handle: { type: 'string' },
  'display-name': { type: 'string' },
  locale: { type: 'string' },
  attributes: { type: 'string' },
  identity: { type: 'string' },
  reason: { type: 'string' },
  after: { type: 'string' },
  'after-seq': { type: 'string' },
  limit: { type: 'string' },
  'record-key': { type: 'string' },
} as const;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Runs the tool; resolves to the exit code. Exported for tests and embedding. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.err(`user-engine: ${(error as Error).message.split('\n')[0]} (see user-engine --help)`);
    return 2;
  }
  const [command, ...rest] = positionals;
  if (command === undefined && values.help !== true) {
    io.err(GLOBAL_HELP);
    return 2;
  }
  if (command === undefined || values.help === true || command === 'help') {
    const topic = command === 'help' ? rest[0] : command;
    io.out(topic === undefined ? GLOBAL_HELP : (HELP[topic] ?? GLOBAL_HELP));
    return 0;
  }
  if (!(command in HELP)) {
    io.err(`user-engine: unknown command ${JSON.stringify(command)} (see user-engine --help)`);
    return 2;
  }
  const json = values.json === true;
  let opened: OpenedStore | undefined;
  try {
    if (values.memory === true && stringOption(values, 'database-url') !== undefined) {
      throw new UsageError('--memory and --database-url cannot be combined');
    }
    opened = await openStore({
      databaseUrl: stringOption(values, 'database-url') ?? io.env.DATABASE_URL,
      memory: values.memory === true,
      schema: stringOption(values, 'schema'),
      dataDir: stringOption(values, 'data-dir') ?? '.user-engine',
    });
    const result = await run(command, rest, values, opened);
    io.out(json ? JSON.stringify(result.json, null, 2) : result.text);
    return result.exitCode ?? 0;
  } catch (error) {
    io.err(`user-engine: ${describeError(error)}`);
    if (values.verbose === true && error instanceof Error && error.stack) io.err(error.stack);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await opened?.close().catch(() => {});
  }
}

async function run(command: string, args: string[], values: Values, opened: OpenedStore): Promise<CommandResult> {
  const { store } = opened;
  const actor = stringOption(values, 'actor') ?? 'cli';
  switch (command) {
    case 'migrate': {
      const report = await store.migrate();
      const text =
        report.applied.length === 0
          ? `nothing to apply: schema is at version ${report.currentVersion}`
          : `applied schema versions ${report.applied.join(', ')}; now at version ${report.currentVersion}`;
      return { json: report, text };
    }
    case 'status': {
      const readiness = await store.readiness();
      return {
        json: { store: opened.description, ...readiness },
        text: `store: ${opened.description}\n${readinessText(readiness)}`,
        exitCode: readiness.ready ? 0 : 1,
      };
    }
    case 'counts': {
      const counts = await store.recordCounts();
      return { json: counts, text: countsText(counts) };
    }
    case 'users':
      return usersCommand(new UserEngine({ store }), args[0], args.slice(1), values, actor);
    case 'audit':
      return auditCommand(store, values);
    case 'outbox':
      return outboxCommand(store, values);
    case 'demo':
      return runDemo(new UserEngine({ store }), store, opened.description);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

const PLAIN_WORDS: Partial<Record<string, string>> = {
  email_taken: 'that email address is already in use by another user',
  handle_taken: 'that handle is already in use by another user',
  identity_taken: 'that external identity is already linked to a user',
  not_found: 'not found',
  version_conflict: 'someone else changed it first; read it again and retry',
};

function describeError(error: unknown): string {
  if (UserEngineError.is(error)) {
    const words = PLAIN_WORDS[error.code];
    const message = error.code === 'schema_not_ready' ? `${error.message} (run: user-engine migrate)` : error.message;
    return words !== undefined && !message.includes(words)
      ? `${words} [${error.code}]: ${message}`
      : `${message} [${error.code}]`;
  }
  if (
    error instanceof UsageError ||
    error instanceof MissingDriverError ||
    error instanceof EmbeddedDirectoryBusyError
  ) {
    return error.message;
  }
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}

/** True when node runs this file (directly or through the npm bin symlink), not when it is imported. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`user-engine: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

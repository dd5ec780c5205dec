import type { CommandSpec } from './command.js';
import { COMMANDS, commandsOf } from './commands.js';

const STORE_HELP = `store (one of):
  --database-url URL        PostgreSQL through node-postgres (or set DATABASE_URL): a postgres:// or
                            postgresql:// URL; never migrated implicitly (run: user-engine migrate)
  --memory                  a throw-away in-memory store
  (neither)                 the embedded PGlite database in ./.user-engine, created by the first
                            command that writes, migrated automatically, one process at a time
  --data-dir DIR            where the embedded database lives (default ./.user-engine)
  --schema NAME             the Postgres schema (default user_engine)
  --no-prepare              server only: no named prepared statements, for a transaction-mode pooler
                            such as PgBouncer before 1.21
  --timeout MS              server only: each call fails as unavailable after MS milliseconds`;

const OUTPUT_HELP = `output:
  --json                    results as JSON on stdout; errors as one JSON object on stderr:
                            {"error":{"code":"...","message":"..."}}
  --verbose                 stack traces on errors
  -h, --help                help for any command: user-engine users --help
  --version                 the version of user-engine

exit codes: 0 done; 1 refused (not found, invalid input, taken, conflict, invalid state) or
status not ready; 2 wrong usage; 3 store unavailable (unreachable, no such database or role,
embedded database missing or busy, driver missing, schema not migrated)`;

function usageLine(spec: CommandSpec): string {
  return `user-engine ${spec.name}${spec.synopsis === '' ? '' : ` ${spec.synopsis}`}`;
}

function commandList(specs: readonly CommandSpec[], indent: string): string {
  const width = Math.max(...specs.map((s) => s.name.length));
  return specs.map((s) => `${indent}${s.name.padEnd(width)}  ${s.summary}`).join('\n');
}

export const GLOBAL_HELP = `user-engine — user accounts with an audit log and a transactional outbox

usage: user-engine <command> [options]

commands:
${commandList(COMMANDS, '  ')}

${STORE_HELP}

${OUTPUT_HELP}`;

export function commandHelp(spec: CommandSpec): string {
  const actor = spec.options.includes('actor') ? '\n\n--actor NAME is recorded in the audit log (default cli).' : '';
  const expected = spec.options.includes('expected-version')
    ? '\n--expected-version V is the version you last read: a stale one is refused with version_conflict\ninstead of retried.'
    : '';
  const writes = `${actor}${expected}`;
  const details = spec.details === undefined ? '' : `\n\n${spec.details}`;
  return `usage: ${usageLine(spec)}\n\n${spec.summary}${details}${writes}\n\n${STORE_HELP}\n\n${OUTPUT_HELP}`;
}

export function groupHelp(group: string): string {
  const specs = commandsOf(group);
  const writes = specs.some((s) => s.options.includes('actor'))
    ? 'writes take --actor NAME (default cli) and --expected-version V; '
    : '';
  return `usage:\n${specs.map((s) => `  ${usageLine(s)}`).join('\n')}\n\n${commandList(specs, '  ')}\n\n${writes}user-engine ${group} <command> --help for more\n\n${STORE_HELP}\n\n${OUTPUT_HELP}`;
}

#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserEngine } from '../engine/engine.js';
import { type CommandLine, Options, readCommandLine, unknownOptionError } from './args.js';
import { COMMON_OPTIONS, type CommandSpec, type PreparedCommand, type Session, type Stream } from './command.js';
import { resolveCommand } from './commands.js';
import { explainDatabaseError } from './database-errors.js';
import { CliError, describeFailure, EXIT, type Failure, type FailureContext, UsageError } from './errors.js';
import { commandHelp, GLOBAL_HELP, groupHelp } from './help.js';
import { LazyStore } from './lazy-store.js';
import { type EmbeddedUse, openStore, type Progress } from './open-store.js';
import { withheld } from './personal-values.js';
import { describeSelection, type StoreSelection, selectStore, storeFlags } from './store-selection.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal; false when not given. */
  interactive?: boolean;
}

/** The package's version, read from its package.json (two levels up from src/cli and dist/cli alike). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What the command line asks for, once it is known to be well formed. */
type Request =
  | { kind: 'print'; text: string }
  | { kind: 'run'; spec: CommandSpec; run: PreparedCommand; use: EmbeddedUse | 'none'; options: Options };

/**
 * Runs the tool; resolves to the exit code. Everything about the command
 * line is checked before a store is chosen, and the store opens only when
 * the command first uses it, after the engine has checked the input.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const end = argv.indexOf('--');
  const json = (end < 0 ? argv : argv.slice(0, end)).includes('--json');
  let line: CommandLine | undefined;
  let session: Session | undefined;
  try {
    line = readCommandLine(argv);
    const request = interpret(line);
    if (request.kind === 'print') {
      io.out(request.text);
      return EXIT.ok;
    }
    const progress = json ? () => {} : (text: string) => io.err(`user-engine: ${text}`);
    const stream = { out: io.out, err: io.err, interactive: io.interactive === true, json };
    session = startSession(request, io.env, progress, stream);
    const result = await request.run(session);
    io.out(json ? JSON.stringify(result.json, null, result.jsonLine === true ? undefined : 2) : result.text);
    return result.exitCode ?? EXIT.ok;
  } catch (error) {
    const failure = describeFailure(error, failureContext(session?.selection));
    const hide = withheld(line);
    writeFailure(io, failure, json, hide);
    if (line?.options.get('verbose') === true && error instanceof Error && error.stack !== undefined) {
      io.err(hide(error.stack));
    }
    return failure.exitCode;
  } finally {
    await closeStore(session);
  }
}

/**
 * Closes the session's store. A server store that is still connecting (a
 * relay stopped while the server did not answer) is given up on after
 * 2 s rather than waited for until the driver's own connect timeout; the
 * embedded database is always closed to the end, since a PGlite directory
 * left unclosed costs the next run a recovery.
 */
async function closeStore(session: Session | undefined): Promise<void> {
  const closing = session?.store.close().catch(() => {});
  if (closing === undefined) return;
  if (session?.selection.kind !== 'postgres') return closing;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    closing,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** The chosen store, not yet opened: it opens on the command's first call, with `progress` for the waiting person. */
function startSession(
  request: Extract<Request, { kind: 'run' }>,
  env: NodeJS.ProcessEnv,
  progress: Progress,
  stream: Stream,
): Session {
  const { spec, use, options } = request;
  const selection: StoreSelection =
    use === 'none' ? { kind: 'memory', schema: options.string('schema') } : selectStore(options, env);
  const store = new LazyStore(() =>
    use === 'none' ? Promise.reject(new Error(`${spec.name} opens no store`)) : openStore(selection, use, progress),
  );
  return {
    store,
    engine: new UserEngine({ store }),
    selection,
    where: use === 'none' ? 'no store' : describeSelection(selection),
    migrateCommand: `user-engine migrate${storeFlags(selection)}`,
    stream,
  };
}

/** Help, the version, or a command with its arguments checked; usage errors otherwise. */
function interpret(line: CommandLine): Request {
  const options = new Options(line.options);
  if (options.flag('version')) return { kind: 'print', text: packageVersion() };
  const asksHelp = options.flag('help') || line.words[0] === 'help';
  const resolved = resolveCommand(line.words[0] === 'help' ? line.words.slice(1) : line.words);
  if (resolved.kind === 'none') {
    if (asksHelp) return { kind: 'print', text: GLOBAL_HELP };
    if (line.unknownOption !== undefined) throw unknownOptionError(line.unknownOption, COMMON_OPTIONS, '');
    throw new UsageError('no command given; usage: user-engine <command> [options] (see user-engine --help)');
  }
  if (resolved.kind === 'group') {
    if (asksHelp) return { kind: 'print', text: groupHelp(resolved.group) };
    throw new UsageError(`${resolved.group} needs a command (see user-engine ${resolved.group} --help)`);
  }
  const { spec, args } = resolved;
  if (asksHelp) return { kind: 'print', text: commandHelp(spec) };
  const allowed = [...COMMON_OPTIONS, ...spec.options];
  if (line.unknownOption !== undefined) throw unknownOptionError(line.unknownOption, allowed, ` for ${spec.name}`);
  for (const name of line.options.keys()) {
    if (!allowed.includes(name)) {
      throw new UsageError(`${spec.name} does not take --${name} (see user-engine ${spec.name} --help)`);
    }
  }
  checkArgumentCount(spec, args);
  const use = typeof spec.store === 'function' ? spec.store(options) : spec.store;
  return { kind: 'run', spec, run: spec.prepare(args, options), use, options };
}

function checkArgumentCount(spec: CommandSpec, args: readonly string[]): void {
  const help = `(see user-engine ${spec.name} --help)`;
  if (args.length < spec.args.length) {
    throw new UsageError(`${spec.name} needs ${spec.args.slice(args.length).join(' ')} ${help}`);
  }
  if (args.length > spec.args.length) {
    const expected = spec.args.length === 0 ? 'no arguments' : spec.args.join(' ');
    throw new UsageError(`${spec.name} takes ${expected}, but was given ${args.length} arguments ${help}`);
  }
}

function failureContext(selection: StoreSelection | undefined): FailureContext {
  if (selection === undefined) return { storeFlags: '' };
  const context: FailureContext = { storeFlags: storeFlags(selection) };
  if (selection.kind === 'postgres') context.explainStoreError = (e) => explainDatabaseError(e, selection.target);
  return context;
}

/** One line on stderr: words and the code, or with --json one JSON object. */
function writeFailure(io: Io, failure: Failure, json: boolean, hide: (text: string) => string): void {
  const message = hide(failure.message);
  if (json) {
    const field = failure.field === undefined ? {} : { field: failure.field };
    io.err(JSON.stringify({ error: { code: failure.code, message, ...field } }));
  } else {
    io.err(`user-engine: ${message} [${failure.code}]`);
  }
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
    interactive: process.stderr.isTTY === true,
  }).then(
    (code) => exitSoon(code),
    (error: unknown) => {
      process.stderr.write(`user-engine: ${error instanceof CliError ? error.message : String(error)}\n`);
      exitSoon(EXIT.refused);
    },
  );
}

/**
 * Exits once the output is flushed. The tool closes everything it opened, so
 * the process normally ends on its own at once; the timer (which does not
 * itself keep the process alive) only ends a process that something else —
 * a driver's timer — would keep running after the command is done.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

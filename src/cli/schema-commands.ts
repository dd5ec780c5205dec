import { LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS, type SchemaReadiness } from '../store/schema.js';
import type { Options } from './args.js';
import type { CommandResult, CommandSpec, Session } from './command.js';
import { CliError, UsageError } from './errors.js';
import { countsText, readinessText } from './format.js';
import { printableMigrations, sqlListing, versionsAfter } from './print-sql.js';

const migrate: CommandSpec = {
  name: 'migrate',
  synopsis: '[--print-sql [--from VERSION]]',
  summary: 'apply pending schema versions; --print-sql prints them as SQL instead, applying nothing',
  details: `Applies the schema versions the database lacks, each in its own transaction under an
advisory lock; safe to run from several processes at once. Refuses a database whose
schema is newer than this code with breaking changes.

--print-sql prints the pending versions as SQL for your own migration tool (Flyway,
graphile-migrate, Atlas), each with its version, name and checksum, and applies
nothing. It reads which versions are pending from the chosen store; --from VERSION
prints the versions after VERSION without opening any store (--from 0: all of them).`,
  args: [],
  options: ['print-sql', 'from'],
  store: (options) => (options.flag('print-sql') ? (options.has('from') ? 'none' : 'probe') : 'migrate'),
  prepare: (_args, options) => {
    if (options.has('from') && !options.flag('print-sql')) throw new UsageError('--from is only for --print-sql');
    if (options.flag('print-sql')) return printSql(options);
    return async ({ store }) => {
      const report = await store.migrate();
      const text =
        report.applied.length === 0
          ? `nothing to apply: schema is at version ${report.currentVersion}`
          : `applied schema versions ${report.applied.join(', ')}; now at version ${report.currentVersion}`;
      return { json: report, text };
    };
  },
};

function printSql(options: Options) {
  const from = options.integer('from', 0);
  const schema = options.string('schema') ?? 'user_engine';
  return async ({ store }: Session): Promise<CommandResult> => {
    let current = from;
    if (current === undefined) {
      const readiness = await store.readiness().catch((error: unknown) => {
        if (error instanceof CliError && error.code === 'no_embedded_database') {
          throw new CliError(
            error.code,
            `${error.message}; --print-sql --from 0 prints every version without a database`,
          );
        }
        throw error;
      });
      if (readiness.problems.length > 0) {
        throw new CliError('schema_not_ready', `cannot print pending versions: ${readiness.problems.join('; ')}`);
      }
      current = readiness.currentVersion;
    }
    const printed = printableMigrations(schema, versionsAfter(current));
    return { json: { schema, currentVersion: current, versions: printed }, text: sqlListing(schema, printed, current) };
  };
}

const status: CommandSpec = {
  name: 'status',
  synopsis: '',
  summary: 'schema readiness; exit 0 when ready, 1 when not (a deployment readiness probe)',
  details: `Prints which store it looked at, the schema version and what is pending, and
changes nothing. Exit code 0 when the store is ready for this code, 1 when it is not,
3 when the store cannot be reached: use it as a readiness probe. Without
--database-url, DATABASE_URL or --memory it looks at the embedded database in
./.user-engine (or --data-dir), and a missing one is not ready — so a probe
that lost its DATABASE_URL fails instead of passing.`,
  args: [],
  options: [],
  store: 'probe',
  prepare: () => async (session) => {
    const chosen =
      session.selection.kind === 'embedded' ? ' (the default: no --database-url, DATABASE_URL or --memory given)' : '';
    const heading = `store: ${session.where}${chosen}`;
    let readiness: SchemaReadiness;
    try {
      readiness = await session.store.readiness();
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== 'no_embedded_database') throw error;
      // Not a failure of the tool: the honest answer of a probe pointed at nothing.
      const none = {
        ready: false,
        currentVersion: 0,
        latestVersion: LATEST_SCHEMA_VERSION,
        pending: SCHEMA_VERSIONS.map((v) => v.version),
        problems: [error.message],
      };
      return {
        json: { store: session.where, ...none },
        text: `${heading}\nschema: NOT READY: ${error.message}`,
        exitCode: 1,
      };
    }
    return {
      json: { store: session.where, ...readiness },
      text: `${heading}\n${readinessText(readiness, session.migrateCommand)}`,
      exitCode: readiness.ready ? 0 : 1,
    };
  },
};

const counts: CommandSpec = {
  name: 'counts',
  synopsis: '',
  summary: 'records per kind, audit entries, pending outbox messages: numbers only',
  args: [],
  options: [],
  store: 'existing',
  prepare:
    () =>
    async ({ store }) => {
      const result = await store.recordCounts();
      return { json: result, text: countsText(result) };
    },
};

export const SCHEMA_COMMANDS: readonly CommandSpec[] = [migrate, status, counts];

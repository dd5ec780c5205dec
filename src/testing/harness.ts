import type { AppliedSchemaVersion, SchemaVersion } from '../store/schema.js';
import type { UserEngineStore } from '../store/store.js';

/**
 * What a store factory hands the shared suites: a fresh, unmigrated store
 * and how to dispose of it.
 */
export interface StoreHandle<S extends UserEngineStore = UserEngineStore> {
  store: S;
  /** Drops whatever the store created (a schema, a temp directory). */
  teardown?: () => Promise<void>;
  /**
   * Writes (inserts or replaces) a schema version row directly into the
   * store's migrations bookkeeping, standing for another deploy or a hand
   * edit. Cases about checksum drift and newer databases need it and are
   * skipped when the store does not offer it.
   */
  writeAppliedSchemaVersion?: (row: AppliedSchemaVersion) => Promise<void>;
  /**
   * Another store over the same data, standing for another process or
   * deploy; on Postgres, typically one forced onto the other commit path.
   * The race suite sends commands through both at once. Without it, the
   * race suite races the store against itself.
   */
  openPeer?: () => UserEngineStore;
  /**
   * A store over the same data run by code that knows only `versions`
   * (an older deploy): what wrote the data a later version converts.
   * Cases about data migrations need it and are skipped without it.
   */
  openOlder?: (versions: readonly SchemaVersion[]) => UserEngineStore;
  /**
   * Opens a transaction of the application's own on a dedicated connection
   * and returns a store bound to it, as an application composing a command
   * with its own writes would. Cases that need it are skipped without it.
   */
  callerTransaction?: () => Promise<CallerTransaction>;
}

/** A store whose statements run inside a transaction that the application (the test) opened and will end. */
export interface CallerTransaction {
  store: UserEngineStore;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Makes a fresh, unmigrated store for one case of a shared suite. */
export type StoreFactory<S extends UserEngineStore = UserEngineStore> = () => Promise<StoreHandle<S>>;

/** An ability a case needs beyond the store contract; cases needing one the factory lacks are skipped. */
export type SuiteCapability =
  | 'schemaBackdoor'
  | 'indexedRecord'
  | 'indexedPair'
  | 'callerTransaction'
  | 'olderCode'
  | 'delivery';

/** One named case of a shared suite. */
export interface SuiteCase<C> {
  name: string;
  requires?: SuiteCapability;
  run(context: C): Promise<void>;
}

/**
 * The part of a test runner the suites need; Vitest's, node:test's and
 * Jest's `describe`/`it` all fit. Pass `skip` (e.g. `it.skip`) to have
 * unsupported cases reported as skipped rather than left out.
 */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeout?: number): void;
  skip?(name: string, body: () => Promise<void>): void;
}

/** How a shared suite runs: a per-case time limit and the abilities the factory offers. */
export interface SuiteOptions {
  timeoutMs?: number;
  /** Abilities the factory's handles offer. */
  capabilities?: readonly SuiteCapability[];
}

/** Registers `cases` with the runner, each against a fresh store from `factory`, torn down afterwards. */
export function registerSuite<C>(
  runner: TestRunner,
  title: string,
  cases: readonly SuiteCase<C>[],
  open: () => Promise<{ context: C; teardown: () => Promise<void> }>,
  options: SuiteOptions = {},
): void {
  const capabilities = new Set(options.capabilities ?? []);
  runner.describe(title, () => {
    for (const testCase of cases) {
      const name = `${title} › ${testCase.name}`;
      if (testCase.requires !== undefined && !capabilities.has(testCase.requires)) {
        runner.skip?.(`${name} (needs ${testCase.requires})`, async () => {});
        continue;
      }
      runner.it(
        name,
        async () => {
          const { context, teardown } = await open();
          try {
            await testCase.run(context);
          } finally {
            await teardown();
          }
        },
        options.timeoutMs,
      );
    }
  });
}

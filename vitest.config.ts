import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Time limits are generous on purpose: the machines this runs on are shared and two cores can be
// busy with something else (a soak, a benchmark). A limit exists to end a hang, not to time a test;
// USER_ENGINE_TEST_TIME_SCALE stretches them further on slower machines.
const scale = Number(process.env.USER_ENGINE_TEST_TIME_SCALE ?? '1') || 1;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Type-level tests (*.test-d.ts) run through tsc: a contract that stops fitting fails the run.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    globalSetup: ['test/support/global-setup.ts'],
    // Vitest's default (cores - 1) runs the files one at a time on a two-core machine, and most of
    // the suite's time is spent waiting on child processes (the CLI, the relays) and the server:
    // two files at once took the no-server suite from 5m30s to 3m44s on one.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 120_000 * scale,
    hookTimeout: 180_000 * scale,
  },
});

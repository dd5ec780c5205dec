// The README's library examples that need no server run as written (imports pointed at the build).
import { describe, expect, it } from 'vitest';
import { readmeBlocks, runReadmeBlock } from './support/readme.js';

describe('README examples', () => {
  it('has the library examples these tests run', () => {
    expect(readmeBlocks.length).toBeGreaterThanOrEqual(4);
  });

  it('the in-memory quick start runs', () => {
    expect(runReadmeBlock(readmeBlocks[0] ?? '')).toContain('already registered');
  });

  it('the PGlite example runs', () => {
    expect(runReadmeBlock(readmeBlocks[2] ?? '')).toContain('example ran');
  }, 30_000);
});

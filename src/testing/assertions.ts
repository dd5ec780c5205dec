import assert from 'node:assert/strict';
import { UserEngineError } from '../store/errors.js';

/** Awaits `promise` and asserts it rejects with a `UserEngineError` of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: string, label = ''): Promise<UserEngineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(UserEngineError.is(error), `${label} expected a UserEngineError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `${label} expected code ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`${label} expected rejection with ${code}`);
}

/** A promise and the function that resolves it: a gate a test opens when it chooses. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// The in-memory stores' keyset index: every page equals the page a full sort
// would give, after any mix of adds and deletes, in code point order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints } from '../src/store/queries.js';
import { SortedIds } from '../src/store/sorted-ids.js';

describe('SortedIds', () => {
  it('pages like a full sort, over generated adds and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 3000 }),
        fc.option(fc.string({ unit: 'binary', maxLength: 6 }), { nil: null }),
        fc.integer({ min: 1, max: 700 }),
        (operations, after, limit) => {
          const index = new SortedIds();
          const set = new Set<string>();
          for (const [add, id] of operations) {
            if (add && !set.has(id)) {
              set.add(id);
              index.add(id);
            } else if (!add && set.has(id)) {
              set.delete(id);
              index.delete(id);
            }
          }
          const expected = [...set]
            .sort(compareCodePoints)
            .filter((id) => after === null || compareCodePoints(id, after) > 0)
            .slice(0, limit);
          expect(index.after(after, limit)).toEqual(expected);
          expect(index.size).toBe(set.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});

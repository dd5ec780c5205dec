// Each commit path owns its SQL text, its parameter encoder and the decoder the
// fake connection executes: encoding a batch and decoding it again gives the
// batch back (writes in lock order), for generated batches of every shape.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCommitStatement, decodeApplyCommit } from '../src/postgres/commit/apply-commit.js';
import { lockOrder } from '../src/postgres/commit/commit-statement.js';
import {
  decodeWriteBatch,
  encodeWriteBatch,
  parseWriteBatchHeader,
  writeBatchSql,
} from '../src/postgres/commit/write-batch.js';
import { schemaName } from '../src/postgres/schema-name.js';
import { canonicalJson } from '../src/store/json.js';
import type { CommitBatch, PendingWrite } from '../src/store/unit-of-work.js';

const schema = schemaName('round_trip');
const text = fc.string({ minLength: 1, maxLength: 12 });
const json = fc
  .dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 })))
  .map((o) => canonicalJson(o, 'data'));
const write: fc.Arbitrary<PendingWrite> = fc
  .record({
    kind: fc.constantFrom('user', 'user-email', 'note'),
    id: text,
    op: fc.constantFrom('i', 'u', 'd'),
    expected: fc.integer({ min: 1, max: 1000 }),
    data: json,
    keep: fc.boolean(),
  })
  .map(({ kind, id, op, expected, data, keep }) => ({
    kind,
    id,
    key: `${kind}:${id}`,
    expectedVersion: op === 'i' ? 0 : expected,
    version: op === 'd' ? 0 : op === 'i' ? 1 : expected + 1,
    data: op === 'd' ? null : data,
    keepCreatedAt: op === 'u' ? keep : false,
  }));
const batch = (withChecks: boolean): fc.Arbitrary<CommitBatch> =>
  fc.record({
    checks: withChecks
      ? fc.uniqueArray(
          fc.record({ kind: fc.constantFrom('note', 'slot'), id: text, version: fc.nat(9) }).map((c) => ({
            ...c,
            key: `${c.kind}:${c.id}`,
          })),
          { selector: (c) => c.key, maxLength: 5 },
        )
      : fc.constant([]),
    writes: fc.uniqueArray(write, { selector: (w) => w.key, maxLength: 14 }),
    audit: fc.array(
      fc.record({
        id: fc.uuid(),
        actor: text,
        action: fc.constant('user.registered'),
        recordKey: fc.option(text, { nil: null }),
        detail: json,
      }),
      { maxLength: 3 },
    ),
    outbox: fc.array(fc.record({ id: fc.uuid(), topic: fc.constant('user.registered'), key: text, payload: json }), {
      maxLength: 3,
    }),
  });

describe('commit statements round-trip through their own decoders', () => {
  it('write-batch: encode then decode gives the batch back, writes in lock order, keys by position', () => {
    fc.assert(
      fc.property(batch(false), (b) => {
        const { shape, params, keys } = encodeWriteBatch(b);
        const text = writeBatchSql(schema, shape);
        expect(parseWriteBatchHeader(text)).toEqual(shape);
        const sorted = [...b.writes].sort(lockOrder);
        expect(decodeWriteBatch(shape, params)).toEqual({ ...b, writes: sorted });
        expect(keys).toEqual(sorted.map((w) => w.key));
        // Every value is a bind parameter: the text is the same for any batch of this shape.
        expect(text.match(/\$\d+/g)?.length ?? 0).toBeGreaterThanOrEqual(params.length);
      }),
      { numRuns: 300 },
    );
  });

  it('apply_commit: encode then decode gives the batch back, keys listed checks first', () => {
    fc.assert(
      fc.property(batch(true), (b) => {
        const statement = applyCommitStatement(schema, b);
        expect(decodeApplyCommit(statement.params)).toEqual(b);
        expect(statement.keys).toEqual([...b.checks.map((c) => c.key), ...b.writes.map((w) => w.key)]);
        for (const param of statement.params.slice(1)) {
          expect(Array.isArray(param) && param.every((v) => v !== null && v !== undefined)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the decoders refuse parameters the store would never send', () => {
    const shape = { ops: 'i', audit: 0, outbox: 0 };
    expect(() => decodeWriteBatch(shape, ['note', 'a', 1])).toThrow(expect.objectContaining({ code: '08P01' }));
    expect(() => decodeWriteBatch(shape, ['note', 'a', 1, '{}', 'extra'])).toThrow(
      expect.objectContaining({ code: '08P01' }),
    );
    expect(() => decodeWriteBatch(shape, ['note', 7, 1, '{}'])).toThrow(expect.objectContaining({ code: '22P02' }));
    expect(() => decodeApplyCommit([0])).toThrow(expect.objectContaining({ code: '42883' }));
    const withNull = applyCommitStatement(schema, { checks: [], writes: [], audit: [], outbox: [] }).params;
    withNull[5] = [null];
    expect(() => decodeApplyCommit(withNull)).toThrow(expect.objectContaining({ code: '22004' }));
  });
});

import { SchemaNotReadyError } from './errors.js';

/**
 * A data step of a schema version: records of `kind` whose ids are keys of
 * some text get the id `key(id)` — how a change to the email key reaches data
 * written under the old one. Stores apply it in `migrate()`, all at once with
 * the version row, or not at all.
 */
export interface RekeyStep {
  /** The kind of the records to re-key, e.g. `user-email`. */
  readonly kind: string;
  /** The new id of a record from its current id. Must be idempotent (`key(key(x)) === key(x)`). */
  readonly key: (id: string) => string;
  /** The field of the record's data that names its owner: what a collision report names (never the id). */
  readonly ownerField: string;
}

/** A record about to be re-keyed: its id and the owner its data names. */
export interface RekeyRecord {
  id: string;
  owner: string | null;
}

/** What a re-keying step will do: every record whose id changes. */
export interface RekeyPlan {
  /** Records whose id changes: [current id, new id]. */
  moves: [string, string][];
}

/**
 * Works out a re-keying, or refuses it: when two records would end under one
 * id (two users holding two spellings of one address), nothing may be merged
 * or lost, so the migration stops with a report that names the owners —
 * never the values, which are personal data.
 */
export function planRekey(step: RekeyStep, version: number, records: readonly RekeyRecord[]): RekeyPlan {
  const byTarget = new Map<string, RekeyRecord[]>();
  for (const record of records) {
    const target = step.key(record.id);
    const group = byTarget.get(target);
    if (group === undefined) byTarget.set(target, [record]);
    else group.push(record);
  }
  const collisions = [...byTarget.values()].filter((group) => group.length > 1);
  if (collisions.length > 0) {
    const owners = collisions
      .slice(0, 20)
      .map((group) => group.map((r) => r.owner ?? 'an unknown owner').join(' and '))
      .join('; ');
    throw new SchemaNotReadyError(
      `cannot migrate to schema version ${version}: ${collisions.length} group(s) of ${step.kind} records would merge into one — ${owners}${collisions.length > 20 ? '; …' : ''}. Nothing was changed. Give all but one owner in each group another value (with the code that runs now), then migrate again.`,
    );
  }
  const moves: [string, string][] = [];
  for (const [target, [record]] of byTarget) {
    if (record !== undefined && record.id !== target) moves.push([record.id, target]);
  }
  return { moves };
}

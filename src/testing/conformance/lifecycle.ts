import { rejectsWith } from '../assertions.js';
import type { Case } from './support.js';

/** Conformance: lifecycle: a closed store. */
export const lifecycleCases: readonly Case[] = [
  {
    name: 'after close() every call rejects with store_unavailable',
    async run({ store }) {
      await store.migrate();
      await store.close();
      await rejectsWith(store.getRecord('note', 'a'), 'store_unavailable');
      await rejectsWith(store.readiness(), 'store_unavailable');
      await rejectsWith(
        store.transaction(async () => undefined),
        'store_unavailable',
      );
    },
  },
];

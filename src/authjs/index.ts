// The `user-engine/authjs` entry point: an Auth.js adapter backed by a
// UserEngine, and the import from `@auth/pg-adapter`'s tables. `@auth/core`
// is an optional peer dependency used for types only: nothing here loads it.

export {
  type AuthjsPruneReport,
  UserEngineAdapter,
  type UserEngineAdapterOptions,
  type UserEngineAuthjsAdapter,
} from './adapter.js';
export {
  type AuthjsPgImportOptions,
  type AuthjsPgImportReport,
  type AuthjsPgImportSkip,
  type AuthjsPgQueryable,
  importFromAuthjsPg,
} from './import-pg.js';
export { AUTHJS_KINDS } from './records.js';
export type { SealedTokens, TokenKey } from './secrets.js';

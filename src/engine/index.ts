export {
  type CommandContext,
  type ProfilePatch,
  type RegisterUserInput,
  type RetryPolicy,
  UserEngine,
  type UserEngineOptions,
  type UserPage,
} from './engine.js';
export { uuidv7 } from './ids.js';
export {
  EMAIL_INDEX_KIND,
  HANDLE_INDEX_KIND,
  IDENTITY_INDEX_KIND,
  type IndexData,
  type LinkedIdentity,
  USER_KIND,
  type User,
  type UserData,
  type UserStatus,
} from './user.js';
export { LIMITS, normalizeEmail, normalizeHandle, normalizeLocale } from './validation.js';

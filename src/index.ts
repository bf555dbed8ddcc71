/**
 * auth-kit: password accounts and bearer tokens for an existing Node app.
 * This module only re-exports; see each symbol's documentation.
 * @packageDocumentation
 */
export { createAuth, type Auth, type AuthOptions, type LoginInput, type RegisterInput } from './auth.js';
export type { Clock } from './clock.js';
export {
  DEFAULT_SETTINGS,
  MIN_SECRET_BYTES,
  loadSettings,
  resolveSettings,
  type JwtAlgorithm,
  type Settings,
  type SettingsInput,
} from './config.js';
export { dialectOf, type DialectName } from './database/dialect.js';
export {
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  getMigrationStatus,
  migrate,
  type MigrateResult,
  type MigrationStatus,
} from './database/migrate.js';
export {
  SQLITE_BUSY_TIMEOUT_MS,
  configureSqlite,
  maskDatabaseUrl,
  openDatabase,
  parseDatabaseUrl,
  type DatabaseTarget,
} from './database/open.js';
export type { AuthKitDatabase, AuthUsersTable } from './database/types.js';
export {
  AuthKitError,
  isAuthKitError,
  type AuthKitErrorCode,
  type AuthKitErrorOptions,
  type InvalidTokenReason,
  type ValidationIssue,
} from './errors.js';
export {
  DEFAULT_ARGON2_PARAMS,
  MAX_PASSWORD_CODE_POINTS,
  OWASP_ARGON2ID_MINIMUMS,
  assertStrongArgon2Params,
  createPasswordHasher,
  hashPassword,
  needsRehash,
  verifyPassword,
  type Argon2Params,
  type PasswordHasher,
  type PasswordHasherOptions,
} from './passwords.js';
export { EmailSchema, normalizeEmail, passwordSchema, type PasswordPolicy } from './schemas.js';
export {
  ACCESS_TOKEN_TYPE,
  MAX_ACCESS_TOKEN_LENGTH,
  createTokenService,
  type AccessTokenClaims,
  type AccessTokenResponse,
  type TokenService,
  type TokenServiceOptions,
  type TokenSubject,
} from './tokens.js';
export {
  createUserService,
  escapeLike,
  type CreateUserInput,
  type ListUsersOptions,
  type User,
  type UserPage,
  type UserService,
  type UserServiceOptions,
  type UserUpdates,
} from './users.js';

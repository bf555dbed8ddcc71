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
  AUTH_ROUTES,
  DEFAULT_MAX_BODY_BYTES,
  HTTP_ERRORS,
  HttpProblem,
  ROUTED_METHODS,
  TOKEN_GRANTS,
  authenticateRequest,
  createAuthHandler,
  errorResponse,
  jsonResponse,
  type AuthHandler,
  type AuthHttpBody,
  type AuthHttpHeaders,
  type AuthHttpOptions,
  type AuthHttpRequest,
  type AuthHttpResponse,
  type AuthRouteMethod,
  type AuthStatusRouteOptions,
  type AuthenticationResult,
  type HttpErrorRow,
  type HttpProblemCode,
} from './http.js';
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
  withStatementCache,
  type DatabaseTarget,
} from './database/open.js';
export type { AuthKitDatabase, AuthUsersTable } from './database/types.js';
export type { AuthEventsTable } from './database/types.js';
export {
  MAX_FORWARDED_HOPS,
  TRUSTED_PROXY_NAMES,
  clientAddressKey,
  normalizeIpAddress,
  parseTrustedProxies,
  resolveClientAddress,
  type ClientAddressOptions,
  type ClientAddressSource,
  type TrustedProxies,
} from './client-address.js';
export {
  AUTH_EVENT_TYPES,
  MAX_EVENT_EMAIL_LENGTH,
  MAX_USER_AGENT_LENGTH,
  createEventRecorder,
  isAuthEventType,
  listEvents,
  pruneEvents,
  recordEvent,
  type AuthEvent,
  type AuthEventDetails,
  type AuthEventHook,
  type AuthEventInput,
  type AuthEventLogger,
  type AuthEventType,
  type EventPage,
  type EventRecorder,
  type ForbiddenEventFields,
  type ListEventsOptions,
  type PruneEventsOptions,
  type RecordEventOptions,
} from './events.js';
export {
  LOCKOUT_RESET_EVENT_TYPES,
  MAX_CONSECUTIVE_FAILED_LOGINS,
  checkAddressAllowed,
  checkLoginAllowed,
  clearLoginFailures,
  lockoutDelaySeconds,
  tooManyAttempts,
  type AddressThrottleOptions,
  type AttemptAllowance,
  type LoginThrottleOptions,
} from './throttle.js';
export {
  MAX_RECOMMENDED_ACCESS_TOKEN_MINUTES,
  formatMinutes,
  getAuthStatus,
  type AuthHealth,
  type AuthStatus,
  type AuthStatusMetadata,
  type AuthStatusOptions,
  type AuthStatusSource,
  type HourlyCount,
} from './status.js';
export {
  escapeHtml,
  renderAuthCard,
  renderAuthDashboard,
  type AuthCardOptions,
  type AuthDashboardOptions,
} from './status-card.js';
export type { AuthPasswordResetTokensTable, AuthSessionsTable } from './database/types.js';
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
export type {
  ChangePasswordInput,
  ChangePasswordOptions,
  PasswordResetMessage,
  SendPasswordResetEmail,
} from './password-reset.js';
export { EmailSchema, normalizeEmail, passwordSchema, type PasswordPolicy } from './schemas.js';
export type { ActiveSession, ClientContext, TokenResponse } from './sessions.js';
export { listActiveSessions, revokeAllSessions } from './sessions.js';
export { pruneExpired, type PruneExpiredOptions, type PruneExpiredResult } from './prune.js';
export {
  DEFAULT_SEED_BATCH_SIZE,
  GENERATED_PASSWORD_LENGTH,
  generatePassword,
  nextAvailableEmails,
  seedUsers,
  type NextAvailableEmailsOptions,
  type SeedUserInput,
  type SeededUser,
  type SeedUsersOptions,
  type SeedUsersResult,
} from './seed.js';
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

import { CompiledQuery, type Kysely, type Selectable } from 'kysely';
import type { AuthUsersTable } from './database/types.js';
import { createVerifiedTokenCache } from './verified-tokens.js';
import { systemClock, type Clock } from './clock.js';
import { type Settings, type SettingsInput, resolveSettings } from './config.js';
import { fromDbBool } from './database/dialect.js';
import { AuthKitError } from './errors.js';
import { type PasswordHasher, createPasswordHasher } from './passwords.js';
import {
  type ChangePasswordInput,
  type ChangePasswordOptions,
  type SendPasswordResetEmail,
  createPasswordLifecycle,
} from './password-reset.js';
import { parseInput, userSchemas, normalizeEmail } from './schemas.js';
import {
  type ActiveSession,
  type ClientContext,
  type EmitSessionEvent,
  type TokenResponse,
  cleanContext,
  createSessionManager,
  ignoreSessionEvent,
} from './sessions.js';
import { type AccessTokenClaims, type AccessTokenResponse, type TokenService, createTokenService } from './tokens.js';
import { USER_COLUMNS, type User, asAuthDb, toUser } from './user-store.js';
import { type UserService, createUserService } from './users.js';

/** Options of {@link createAuth}. */
export interface AuthOptions {
  /** The app's Kysely handle (SQLite or PostgreSQL), migrated with {@link migrate}. */
  readonly db: Kysely<any>;
  /** From {@link loadSettings}, or an object with at least `jwtSecretKey`. */
  readonly settings: Settings | SettingsInput;
  /** Time source for every expiry decision; tests pass a fake one. Default: system time. */
  readonly clock?: Clock;
  /** The app's mailer for {@link Auth.requestPasswordReset}; without it that call fails with `configuration_error`. */
  readonly sendPasswordResetEmail?: SendPasswordResetEmail;
}

/** Public registration input: privileged fields (`isActive`, `id`, …) are ignored (S7). */
export interface RegisterInput {
  readonly email: string;
  readonly password: string;
  readonly fullName?: string | null;
}

/** The resource-owner password credentials of a login (RFC 6749 4.3). `username` is the email. */
export interface LoginInput {
  readonly username: string;
  readonly password: string;
}

/** The auth-kit instance: services and the flows every interface shares. Create with {@link createAuth}. */
export interface Auth {
  readonly settings: Settings;
  readonly db: Kysely<any>;
  readonly users: UserService;
  readonly tokens: TokenService;
  readonly passwords: PasswordHasher;
  readonly clock: Clock;
  /** Creates an active account from public input. */
  register(input: RegisterInput): Promise<User>;
  /**
   * Checks the password and starts a session: an access token (whose `sid` claim is the session
   * id) and a refresh token. Any failure is `invalid_credentials`. `context` is stored on the session.
   */
  login(input: LoginInput, context?: ClientContext): Promise<TokenResponse>;
  /** Verifies a bearer token and loads its user; a deactivated user or an older token is `invalid_token`. */
  authenticate(token: string): Promise<User>;
  /** {@link Auth.authenticate}, also returning the verified claims (`claims.sid` is the current session id). */
  authenticateWithClaims(token: string): Promise<{ user: User; claims: AccessTokenClaims }>;
  /**
   * Spends a refresh token and returns new tokens for the same session. Unknown, spent, revoked or
   * expired → `invalid_grant`; a spent one also revokes its whole session (reuse detection, S17).
   */
  refresh(refreshToken: string, context?: ClientContext): Promise<TokenResponse>;
  /** Ends the refresh token's session. Resolves the same way whether or not the token was valid. */
  logout(refreshToken: string): Promise<void>;
  /** The user's active sessions, newest first; `current` marks `currentSessionId`. */
  listSessions(userId: number, options?: { readonly currentSessionId?: string | null }): Promise<ActiveSession[]>;
  /** Ends one of the user's sessions; false when the user has no such active session. */
  revokeSession(userId: number, sessionId: string): Promise<boolean>;
  /** Ends every session of the user and invalidates all their access tokens; returns the sessions ended. */
  logoutAll(userId: number): Promise<number>;
  /**
   * Verifies the current password (`invalid_current_password`), applies the policy, re-hashes,
   * invalidates every access token and revokes every session but `currentSessionId`. Returns a new
   * access token (for that session), since the caller's own one is refused from now on.
   */
  changePassword(userId: number, input: ChangePasswordInput, options?: ChangePasswordOptions): Promise<AccessTokenResponse>;
  /** Mails a single-use reset token through `sendPasswordResetEmail`; unknown or inactive emails silently do nothing. */
  requestPasswordReset(email: string): Promise<void>;
  /** Sets a new password with a reset token, revokes every session and access token; a bad token is `invalid_grant`. */
  resetPassword(token: string, newPassword: string): Promise<void>;
}

type UserWithVersionRow = Pick<Selectable<AuthUsersTable>, (typeof USER_COLUMNS)[number] | 'token_version'>;

const INCORRECT = 'Incorrect email or password';

function requireField(value: unknown, name: string): string {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    // Never coerced (S6): a number or an object is a malformed request, not a missing field.
    throw new AuthKitError('validation_failed', `The ${name} must be a string`, {
      issues: [{ path: name, message: 'Must be a string' }],
    });
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuthKitError('invalid_request', `The ${name} is required`, {
      issues: [{ path: name, message: 'Required' }],
    });
  }
  return value;
}

/**
 * Creates auth-kit over the app's Kysely handle. Settings are validated here; a weak secret or
 * weak argon2 parameters fail now, not at the first request.
 *
 * @example
 * ```ts
 * const db = openDatabase(process.env.DATABASE_URL ?? 'sqlite:///./app.db');
 * await migrate(db);
 * const auth = createAuth({ db, settings: loadSettings() });
 * await auth.register({ email: 'ada@example.com', password: 'correct horse battery staple' });
 * const { accessToken } = await auth.login({ username: 'ada@example.com', password: 'correct horse battery staple' });
 * const me = await auth.authenticate(accessToken);
 * ```
 */
export function createAuth(options: AuthOptions): Auth {
  if (!options.db || typeof (options.db as Kysely<any>).selectFrom !== 'function') {
    throw new AuthKitError('configuration_error', 'createAuth needs `db`, a Kysely handle');
  }
  // Every store below runs on the kit's plain handle: without the app's CamelCasePlugin & co.
  const db = asAuthDb(options.db);
  const settings = resolveSettings(options.settings);
  const clock = options.clock ?? systemClock;
  const passwords = createPasswordHasher({
    memoryCost: settings.argon2MemoryCost,
    timeCost: settings.argon2TimeCost,
    parallelism: settings.argon2Parallelism,
    maxConcurrent: settings.maxConcurrentHashes,
  });
  const policy = { minLength: settings.passwordMinLength };
  // The hook point for the events store; nothing is recorded yet.
  const emit: EmitSessionEvent = ignoreSessionEvent;
  const users = createUserService(db, { passwords, passwordPolicy: policy, clock, emit });
  const tokens = createTokenService(settings, { clock });
  const schemas = userSchemas(policy);
  const kdb = asAuthDb(db);
  const sessions = createSessionManager(db, {
    clock,
    tokens,
    refreshTokenExpireDays: settings.refreshTokenExpireDays,
    emit,
  });
  const lifecycle = createPasswordLifecycle(db, {
    clock,
    passwords,
    passwordPolicy: policy,
    tokens,
    passwordResetExpireMinutes: settings.passwordResetExpireMinutes,
    sendPasswordResetEmail: options.sendPasswordResetEmail,
    emit,
  });

  // authenticate runs on every protected request: its user lookup is compiled once, and the
  // signature check is memoised per exact token string (revocation is still read every time).
  const verifiedTokens = createVerifiedTokenCache();
  const userByIdSql = kdb
    .selectFrom('auth_users')
    .select([...USER_COLUMNS, 'token_version'])
    .where('id', '=', 0)
    .compile().sql;

  const auth: Auth = {
    settings,
    db,
    users,
    tokens,
    passwords,
    clock,

    async register(input) {
      const data = parseInput(schemas.register, input);
      return users.createUser({ email: data.email, password: data.password, fullName: data.fullName });
    },

    async login(input, context) {
      const username = requireField(input?.username, 'username');
      const password = requireField(input?.password, 'password');
      const row = await kdb
        .selectFrom('auth_users')
        .select(['id', 'is_active', 'hashed_password', 'token_version'])
        .where('email', '=', normalizeEmail(username))
        .executeTakeFirst();
      if (!row) {
        // Same work as a known account: one argon2 verify (S10).
        await passwords.verifyDummy(password);
        throw new AuthKitError('invalid_credentials', INCORRECT);
      }
      const ok = await passwords.verify(row.hashed_password, password);
      if (!ok || !fromDbBool(row.is_active)) throw new AuthKitError('invalid_credentials', INCORRECT);
      if (passwords.needsRehash(row.hashed_password)) {
        // Upgrade the stored hash to the current parameters (S3). Only if it is still the one we
        // verified, so a concurrent password change is never overwritten.
        const upgraded = await passwords.hash(password);
        await kdb
          .updateTable('auth_users')
          .set({ hashed_password: upgraded })
          .where('id', '=', row.id)
          .where('hashed_password', '=', row.hashed_password)
          .execute();
      }
      const response = await sessions.start({ id: Number(row.id), tokenVersion: Number(row.token_version) }, context);
      await emit('login_succeeded', { userId: Number(row.id), email: normalizeEmail(username), ...cleanContext(context) });
      return response;
    },

    async authenticate(token) {
      return (await auth.authenticateWithClaims(token)).user;
    },

    async authenticateWithClaims(token) {
      const now = Math.floor(clock().getTime() / 1000);
      let claims = verifiedTokens.get(token, now);
      if (claims === undefined) {
        claims = await tokens.verifyAccessToken(token);
        verifiedTokens.set(token, claims);
      }
      const { rows } = await kdb.executeQuery<UserWithVersionRow>(
        CompiledQuery.raw(userByIdSql, [Number(claims.sub)]),
      );
      const row = rows[0];
      if (!row || !fromDbBool(row.is_active) || Number(row.token_version) !== claims.ver) {
        throw new AuthKitError('invalid_token', 'The access token is no longer valid', { reason: 'revoked' });
      }
      return { user: toUser(row), claims };
    },

    refresh: (refreshToken, context) => sessions.refresh(refreshToken, context),
    logout: (refreshToken) => sessions.logout(refreshToken),
    listSessions: (userId, listOptions) => sessions.list(userId, listOptions),
    revokeSession: (userId, sessionId) => sessions.revoke(userId, sessionId),
    logoutAll: (userId) => sessions.logoutAll(userId),
    changePassword: (userId, input, changeOptions) => lifecycle.changePassword(userId, input, changeOptions),
    requestPasswordReset: (email) => lifecycle.requestPasswordReset(email),
    resetPassword: (token, newPassword) => lifecycle.resetPassword(token, newPassword),
  };
  return Object.freeze(auth);
}


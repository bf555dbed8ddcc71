import type { Kysely } from 'kysely';
import { createUserBatchLookup } from './user-batch-lookup.js';
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
import {
  type AuthEventHook,
  type AuthEventType,
  type AuthEventLogger,
  type EventRecorder,
  type PruneEventsOptions,
  announceEvent,
  createEventRecorder,
} from './events.js';
import { type LoginInput, type RegisterInput, createLoginFlows } from './login.js';
import { type PruneExpiredResult, pruneExpired } from './prune.js';
import {
  type ActiveSession,
  type ClientContext,
  type SessionEventDetails,
  type TokenResponse,
  createSessionManager,
} from './sessions.js';
import { type AccessTokenClaims, type AccessTokenResponse, type TokenService, createTokenService } from './tokens.js';
import { type User, asAuthDb, toUser } from './user-store.js';
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
  /**
   * Called after each auth event is stored in `auth_events` (for the app's own logging or
   * alerting). Not awaited; an exception or rejection in it goes to `eventLogger` and never
   * breaks the request.
   */
  readonly onEvent?: AuthEventHook;
  /** Where a failing `onEvent` is reported. Default: `console.error` with the event type only. */
  readonly eventLogger?: AuthEventLogger;
}

export type { LoginInput, RegisterInput } from './login.js';

/** The auth-kit instance: services and the flows every interface shares. Create with {@link createAuth}. */
export interface Auth {
  readonly settings: Settings;
  readonly db: Kysely<any>;
  readonly users: UserService;
  readonly tokens: TokenService;
  readonly passwords: PasswordHasher;
  readonly clock: Clock;
  /** True when `createAuth` was given `sendPasswordResetEmail`, so password reset can be offered. */
  readonly passwordResetEnabled: boolean;
  /** The event log (S19): every flow below records into it. `list` pages it, `prune` deletes old events. */
  readonly events: Pick<EventRecorder, 'list' | 'prune'>;
  /**
   * Creates an active account from public input and records `user_registered` with `context`.
   * With `maxRegistrationsPerAddress` set, too many from one address → `too_many_attempts`.
   */
  register(input: RegisterInput, context?: ClientContext): Promise<User>;
  /**
   * Checks the password and starts a session: an access token (whose `sid` claim is the session
   * id) and a refresh token. Any failure is `invalid_credentials`. `context` is stored on the session
   * and on the `login_succeeded` / `login_failed` event. Too many recent failures for the email
   * (or, when configured, from the address) → `too_many_attempts` with `retryAfterSeconds` (S18).
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
  logout(refreshToken: string, context?: ClientContext): Promise<void>;
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
   * A wrong current password counts towards the account's lockout like a failed login (recorded
   * as `login_failed`); once it is reached, the change is refused with `too_many_attempts`.
   * Pass the client's `clientAddress` / `userAgent` in `options` for the event log.
   */
  changePassword(userId: number, input: ChangePasswordInput, options?: ChangePasswordOptions): Promise<AccessTokenResponse>;
  /**
   * Mails a single-use reset token through `sendPasswordResetEmail`; unknown or inactive emails
   * silently do nothing, and so does an account that already has `maxPasswordResetsPerAccount`
   * tokens outstanding (no mailbox flooding). Every well-formed request is recorded: as
   * `password_reset_requested` (with the user id when the email is an account's), or as
   * `password_reset_throttled` when refused by that limit. Pass the client's `clientAddress` /
   * `userAgent` in `context` for the event log.
   */
  requestPasswordReset(email: string, context?: ClientContext): Promise<void>;
  /** Sets a new password with a reset token, revokes every session and access token; a bad token is `invalid_grant`. */
  resetPassword(token: string, newPassword: string): Promise<void>;
  /** Deletes events created before `olderThan`; returns how many (see {@link pruneEvents}). */
  pruneEvents(options: PruneEventsOptions): Promise<number>;
  /**
   * Deletes the sessions past their absolute lifetime and the used or expired password-reset
   * tokens, on the auth clock; returns how many of each (see {@link pruneExpired}). Run it on a
   * schedule.
   */
  pruneExpired(): Promise<PruneExpiredResult>;
}

/**
 * Creates auth-kit over the app's Kysely handle. Settings are validated here; a weak secret or
 * weak argon2 parameters fail now, not at the first request.
 *
 * @example
 * ```ts
 * const db = openDatabase(process.env.DATABASE_URL ?? 'sqlite:///./app.db');
 * await migrate(db);
 * const auth = createAuth({ db, settings: loadSettings(), onEvent: (e) => log.info({ auth: e.type, user: e.userId }) });
 * await auth.register({ email: 'ada@example.com', password: 'correct horse battery staple' });
 * const { accessToken } = await auth.login({ username: 'ada@example.com', password: 'correct horse battery staple' });
 * const me = await auth.authenticate(accessToken);
 * ```
 */
export function createAuth(options: AuthOptions): Auth {
  if (!options.db || typeof (options.db as Kysely<any>).selectFrom !== 'function') {
    throw new AuthKitError('configuration_error', 'createAuth needs `db`, a Kysely handle');
  }
  for (const name of ['onEvent', 'eventLogger', 'sendPasswordResetEmail'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new AuthKitError('configuration_error', `createAuth: \`${name}\` must be a function`);
    }
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
  // Every flow records into one event log. Storing is awaited and its failure fails the flow:
  // the lockout counts these rows, so a security event is never silently lost (README, security).
  const eventOptions = { clock, onEvent: options.onEvent, logger: options.eventLogger };
  const events = createEventRecorder(db, eventOptions);
  const emit = async (type: AuthEventType, details: SessionEventDetails): Promise<void> => {
    await events.record(type, details);
  };
  const users = createUserService(db, { passwords, passwordPolicy: policy, clock, events });
  const tokens = createTokenService(settings, { clock });
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
    maxPasswordResetsPerAccount: settings.maxPasswordResetsPerAccount,
    sendPasswordResetEmail: options.sendPasswordResetEmail,
    lockout: { maxFailedLogins: settings.maxFailedLogins, windowMinutes: settings.lockoutWindowMinutes },
    emit,
  });
  const flows = createLoginFlows(db, {
    clock,
    settings,
    passwords,
    passwordPolicy: policy,
    users,
    sessions,
    events: { record: events.record, announce: (event) => announceEvent(event, eventOptions) },
  });

  // authenticate runs on every protected request: the signature check is memoised per exact token
  // string, and the user lookups of one event-loop turn share one query (revocation is still read
  // from the database for every call, after the call began).
  const verifiedTokens = createVerifiedTokenCache();
  const lookupUser = createUserBatchLookup(kdb);

  const auth: Auth = {
    settings,
    db,
    users,
    tokens,
    passwords,
    clock,
    passwordResetEnabled: typeof options.sendPasswordResetEmail === 'function',
    events: Object.freeze({ list: events.list, prune: events.prune }),

    register: (input, context) => flows.register(input, context),
    login: (input, context) => flows.login(input, context),

    async authenticate(token) {
      return (await auth.authenticateWithClaims(token)).user;
    },

    async authenticateWithClaims(token) {
      // The system clock without a Date per request (this runs on every authenticated request).
      const now = Math.floor((clock === systemClock ? Date.now() : clock().getTime()) / 1000);
      let claims = verifiedTokens.get(token, now);
      if (claims === undefined) {
        claims = await tokens.verifyAccessToken(token);
        verifiedTokens.set(token, claims);
      }
      const row = await lookupUser(Number(claims.sub));
      if (!row || !fromDbBool(row.is_active) || Number(row.token_version) !== claims.ver) {
        throw new AuthKitError('invalid_token', 'The access token is no longer valid', { reason: 'revoked' });
      }
      return { user: toUser(row), claims };
    },

    refresh: (refreshToken, context) => sessions.refresh(refreshToken, context),
    logout: (refreshToken, context) => sessions.logout(refreshToken, context),
    listSessions: (userId, listOptions) => sessions.list(userId, listOptions),
    revokeSession: (userId, sessionId) => sessions.revoke(userId, sessionId),
    logoutAll: (userId) => sessions.logoutAll(userId),
    changePassword: (userId, input, changeOptions) => lifecycle.changePassword(userId, input, changeOptions),
    requestPasswordReset: (email, context) => lifecycle.requestPasswordReset(email, context),
    resetPassword: (token, newPassword) => lifecycle.resetPassword(token, newPassword),
    pruneEvents: (pruneOptions) => events.prune(pruneOptions),
    pruneExpired: () => pruneExpired(db, { now: clock() }),
  };
  return Object.freeze(auth);
}


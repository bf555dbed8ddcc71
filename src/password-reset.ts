/**
 * The password lifecycle after registration: change (with the current password) and reset (with a
 * single-use token the app mails). Both move the user's token version on, so every older access
 * token stops working (S15), and revoke sessions (S17).
 */
import type { Kysely } from 'kysely';
import * as v from 'valibot';
import type { Clock } from './clock.js';
import { dialectOf, fromDbBool, fromDbTime, toDbBool, toDbTime } from './database/dialect.js';
import type { AuthKitDatabase } from './database/types.js';
import { AuthKitError } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import { EmailSchema, type PasswordPolicy, parseInput, passwordSchema } from './schemas.js';
import { checkLoginAllowed, tooManyAttempts } from './throttle.js';
import {
  type ClientContext,
  type SessionEventDetails,
  type SessionEventType,
  assertUserId,
  cleanContext,
  generateOpaqueToken,
  hashOpaqueToken,
  invalidGrant,
  isOpaqueToken,
  newRowId,
  requireString,
  revokeUserSessions,
} from './sessions.js';
import type { AccessTokenResponse, TokenService } from './tokens.js';
import { USER_COLUMNS, type User, toUser } from './user-store.js';

/** Input of `auth.changePassword`. */
export interface ChangePasswordInput {
  readonly currentPassword: string;
  readonly newPassword: string;
}

/** Options of `auth.changePassword`. */
export interface ChangePasswordOptions extends ClientContext {
  /** The session to keep (the `sid` of the caller's access token); every other session is revoked. */
  readonly currentSessionId?: string | null;
}

/** What `sendPasswordResetEmail` receives. `token` is a secret: put it in a link, never in a log. */
export interface PasswordResetMessage {
  readonly user: User;
  /** Single use, 256 random bits, base64url. */
  readonly token: string;
  /** When the token stops working. */
  readonly expiresAt: Date;
}

/**
 * The app's mailer for password resets, given as `createAuth({ sendPasswordResetEmail })`. It is
 * awaited, so queue the mail and return quickly: a slow send would make known emails measurably
 * slower to answer than unknown ones.
 *
 * @example
 * ```ts
 * const sendPasswordResetEmail: SendPasswordResetEmail = async ({ user, token }) => {
 *   await mailQueue.add({ to: user.email, link: `https://app.example/reset?token=${token}` });
 * };
 * ```
 */
export type SendPasswordResetEmail = (message: PasswordResetMessage) => void | Promise<void>;

/** The events the password flows report besides the session events. Internal. */
export type PasswordLifecycleEventType =
  | SessionEventType
  | 'login_failed'
  | 'login_throttled'
  | 'password_reset_requested'
  | 'password_reset_throttled';

/** Options of {@link createPasswordLifecycle}. */
export interface PasswordLifecycleOptions {
  readonly clock: Clock;
  readonly passwords: PasswordHasher;
  readonly passwordPolicy: PasswordPolicy;
  readonly tokens: TokenService;
  /** Reset-token lifetime in minutes. */
  readonly passwordResetExpireMinutes: number;
  /** Outstanding (unused, unexpired) reset tokens per account beyond which a request mails nothing; 0 = no limit. */
  readonly maxPasswordResetsPerAccount: number;
  readonly sendPasswordResetEmail?: SendPasswordResetEmail;
  /** The account lockout a wrong current password counts towards (the login's settings, S18). */
  readonly lockout: { readonly maxFailedLogins: number; readonly windowMinutes: number };
  /**
   * Stores an event; a rejection fails the flow. Besides the session events, a wrong current
   * password is recorded as `login_failed` and a refused attempt as `login_throttled`; a reset
   * request as `password_reset_requested`, or `password_reset_throttled` when over the limit.
   */
  readonly emit: (type: PasswordLifecycleEventType, details: SessionEventDetails) => void | Promise<void>;
}

/** The password flows behind `createAuth`'s `changePassword`, `requestPasswordReset`, `resetPassword`. Internal. */
export interface PasswordLifecycle {
  changePassword(userId: number, input: ChangePasswordInput, options?: ChangePasswordOptions): Promise<AccessTokenResponse>;
  requestPasswordReset(email: string, context?: ClientContext): Promise<void>;
  resetPassword(token: string, newPassword: string): Promise<void>;
}

/**
 * Creates the password change and reset flows. `createAuth` builds one; apps use the methods on
 * the `Auth` object instead.
 *
 * @example
 * ```ts
 * const lifecycle = createPasswordLifecycle(db, { clock, passwords, passwordPolicy: { minLength: 8 }, tokens,
 *   passwordResetExpireMinutes: 60, maxPasswordResetsPerAccount: 3, lockout: { maxFailedLogins: 5, windowMinutes: 15 }, emit: ignoreSessionEvent });
 * ```
 */
export function createPasswordLifecycle(db: Kysely<any>, options: PasswordLifecycleOptions): PasswordLifecycle {
  const kdb = db as Kysely<AuthKitDatabase>;
  const { clock, passwords, tokens, emit, sendPasswordResetEmail, lockout } = options;
  const newPasswordSchema = v.object({ newPassword: passwordSchema(options.passwordPolicy) });
  const emailSchema = v.object({ email: EmailSchema });
  const resetLifetimeMs = options.passwordResetExpireMinutes * 60 * 1000;
  const isPostgres = dialectOf(kdb) === 'postgres';

  const lifecycle: PasswordLifecycle = {
    async changePassword(userId, input, changeOptions = {}) {
      const { currentSessionId = null } = changeOptions;
      assertUserId(userId);
      const currentPassword = requireString(input?.currentPassword, 'currentPassword');
      // The policy first: a weak new password is refused before any hashing (S5).
      const { newPassword } = parseInput(newPasswordSchema, { newPassword: input?.newPassword });
      const row = await kdb
        .selectFrom('auth_users')
        .select(['email', 'is_active', 'hashed_password'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (!row || !fromDbBool(row.is_active)) {
        // The caller was authenticated a moment ago; the account is gone or deactivated since.
        throw new AuthKitError('invalid_token', 'The access token is no longer valid', { reason: 'revoked' });
      }
      // A wrong current password is a password guess like a failed login (whoever holds a stolen
      // access token could otherwise guess without limit): the account's lockout applies before
      // argon2, and each wrong guess is counted as a login_failed (S18, S19).
      const ctx = cleanContext(changeOptions);
      const details = { userId, email: row.email, ...ctx };
      const verdict = await checkLoginAllowed(kdb, row.email, { now: clock(), ...lockout });
      if (!verdict.allowed) {
        await emit('login_throttled', details);
        throw tooManyAttempts(verdict.retryAfterSeconds);
      }
      if (!(await passwords.verify(row.hashed_password, currentPassword))) {
        await emit('login_failed', details);
        throw new AuthKitError('invalid_current_password', 'The current password is not correct');
      }
      const hashed = await passwords.hash(newPassword);
      const now = clock();
      const at = toDbTime(now);
      const keep = typeof currentSessionId === 'string' && currentSessionId !== '' ? currentSessionId : null;
      const result = await kdb.transaction().execute(async (trx) => {
        // Conditional on the hash we verified: of two concurrent changes, the second finds it gone.
        const updated = await trx
          .updateTable('auth_users')
          .set((eb) => ({ hashed_password: hashed, updated_at: at, token_version: eb('token_version', '+', 1) }))
          .where('id', '=', userId)
          .where('hashed_password', '=', row.hashed_password)
          .where('is_active', '=', toDbBool(true))
          .returning('token_version')
          .executeTakeFirst();
        if (!updated) return null;
        const version = Number(updated.token_version);
        await revokeUserSessions(trx, userId, now, { exceptFamilyId: keep });
        // The kept session follows the new version, so its refresh token goes on working.
        const kept =
          keep === null
            ? undefined
            : await trx
                .updateTable('auth_sessions')
                .set({ token_version: version })
                .where('user_id', '=', userId)
                .where('family_id', '=', keep)
                .where('used_at', 'is', null)
                .where('revoked_at', 'is', null)
                .where('expires_at', '>', at)
                .returning('family_id')
                .executeTakeFirst();
        return { version, sessionId: kept?.family_id };
      });
      if (!result) throw new AuthKitError('invalid_current_password', 'The current password is not correct');
      await emit('password_changed', details);
      // The caller's own access token carries the old version and is now refused: hand out a new one.
      return tokens.createAccessToken({ id: userId, tokenVersion: result.version, sessionId: result.sessionId });
    },

    async requestPasswordReset(email, context = {}) {
      if (typeof sendPasswordResetEmail !== 'function') {
        throw new AuthKitError(
          'configuration_error',
          'requestPasswordReset needs the `sendPasswordResetEmail` option of createAuth',
        );
      }
      const data = parseInput(emailSchema, { email });
      const row = await kdb.selectFrom('auth_users').select(USER_COLUMNS).where('email', '=', data.email).executeTakeFirst();
      // Recorded for unknown emails too (as failed logins are), so a sweep of guesses shows.
      const details = { userId: row ? Number(row.id) : null, email: data.email, ...cleanContext(context) };
      // Unknown or deactivated: nothing else happens, and nothing tells the caller so.
      if (!row || !fromDbBool(row.is_active)) {
        await emit('password_reset_requested', details);
        return;
      }
      const now = clock();
      const userId = Number(row.id);
      const token = generateOpaqueToken();
      const expiresAt = new Date(now.getTime() + resetLifetimeMs);
      const limit = options.maxPasswordResetsPerAccount;
      const stored = await kdb.transaction().execute(async (trx) => {
        // Requests for one account are serialised, so a burst cannot slip past the limit: on
        // PostgreSQL by the account's row lock, on SQLite by the write lock the insert takes first
        // (a write before the read, so two processes never deadlock upgrading a read lock).
        if (limit > 0 && isPostgres) {
          await trx.selectFrom('auth_users').select('id').where('id', '=', userId).forUpdate().execute();
        }
        const id = newRowId();
        await trx
          .insertInto('auth_password_reset_tokens')
          .values({
            id,
            user_id: userId,
            token_hash: hashOpaqueToken(token),
            created_at: toDbTime(now),
            expires_at: toDbTime(expiresAt),
            used_at: null,
          })
          .execute();
        if (limit === 0) return true;
        const { outstanding } = await trx
          .selectFrom('auth_password_reset_tokens')
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('outstanding'))
          .where('user_id', '=', userId)
          .where('used_at', 'is', null)
          .where('expires_at', '>', toDbTime(now))
          .executeTakeFirstOrThrow();
        if (Number(outstanding) <= limit) return true;
        // Enough links are already on their way: another mail would only flood the mailbox.
        await trx.deleteFrom('auth_password_reset_tokens').where('id', '=', id).execute();
        return false;
      });
      // Over the limit: answered the same (nothing may tell whether the account exists).
      if (!stored) {
        await emit('password_reset_throttled', details);
        return;
      }
      await emit('password_reset_requested', details);
      await sendPasswordResetEmail({ user: toUser(row), token, expiresAt });
    },

    async resetPassword(token, newPassword) {
      const presented = requireString(token, 'token');
      const data = parseInput(newPasswordSchema, { newPassword });
      if (!isOpaqueToken(presented)) throw invalidGrant('reset');
      const now = clock();
      const at = toDbTime(now);
      const row = await kdb
        .selectFrom('auth_password_reset_tokens as t')
        .innerJoin('auth_users as u', 'u.id', 't.user_id')
        .select(['t.id', 't.user_id', 't.expires_at', 't.used_at', 'u.is_active', 'u.email'])
        .where('t.token_hash', '=', hashOpaqueToken(presented))
        .executeTakeFirst();
      // Checked before hashing, so garbage tokens cost no argon2.
      if (!row || row.used_at !== null || fromDbTime(row.expires_at) <= now || !fromDbBool(row.is_active)) {
        throw invalidGrant('reset');
      }
      const hashed = await passwords.hash(data.newPassword);
      const userId = Number(row.user_id);
      await kdb.transaction().execute(async (trx) => {
        // The claim: of two concurrent uses of one token, exactly one gets the row.
        const claimed = await trx
          .updateTable('auth_password_reset_tokens')
          .set({ used_at: at })
          .where('id', '=', row.id)
          .where('used_at', 'is', null)
          .where('expires_at', '>', at)
          .returning('id')
          .executeTakeFirst();
        if (!claimed) throw invalidGrant('reset');
        const user = await trx
          .updateTable('auth_users')
          .set((eb) => ({ hashed_password: hashed, updated_at: at, token_version: eb('token_version', '+', 1) }))
          .where('id', '=', userId)
          .where('is_active', '=', toDbBool(true))
          .returning('id')
          .executeTakeFirst();
        if (!user) throw invalidGrant('reset');
        await revokeUserSessions(trx, userId, now);
        // Any other outstanding reset link of this account dies with this one.
        await trx
          .updateTable('auth_password_reset_tokens')
          .set({ used_at: at })
          .where('user_id', '=', userId)
          .where('used_at', 'is', null)
          .execute();
      });
      await emit('password_reset', { userId, email: row.email });
    },
  };
  return Object.freeze(lifecycle);
}

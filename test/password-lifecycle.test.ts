/**
 * Password change and reset on every dialect: the current-password check, the policy, other
 * sessions and older access tokens cut off (S15, S17), the kept session working on; reset tokens
 * single-use, hashed at rest, expiring on the injected clock, and safe under concurrent use;
 * pruneExpired deleting exactly what can never be accepted again.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthKitError,
  createAuth,
  migrate,
  pruneExpired,
  type Auth,
  type PasswordResetMessage,
  type SettingsInput,
  type User,
} from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';

const NEW_PASSWORD = 'saffron-glacier-48-lantern';
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describeEachDialect('password lifecycle', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let ada: User;
  let mails: PasswordResetMessage[];

  /** An auth instance on this test's database and clock whose reset mails land in `mails`. */
  const authWith = (settings: Partial<SettingsInput> = {}) =>
    createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret(), ...settings },
      clock: clock.now,
      sendPasswordResetEmail: (message) => void mails.push(message),
    });

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    mails = [];
    auth = authWith();
    ada = await auth.users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const login = (password = GOOD_PASSWORD) => auth.login({ username: 'ada@example.com', password });

  async function requestToken(): Promise<string> {
    const before = mails.length;
    await auth.requestPasswordReset('ada@example.com');
    expect(mails.length).toBe(before + 1);
    return mails.at(-1)!.token;
  }

  describe('changePassword', () => {
    it('refuses a wrong current password with invalid_current_password and changes nothing', async () => {
      const session = await login();
      const err = await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: 'not-the-password-1', newPassword: NEW_PASSWORD }),
        'invalid_current_password',
      );
      expect(err.message).not.toContain('not-the-password-1');
      expect(err.message).not.toContain(NEW_PASSWORD);
      expect((await auth.authenticate(session.accessToken)).id).toBe(ada.id);
      expect((await auth.refresh(session.refreshToken)).sessionId).toBe(session.sessionId);
      await login(); // the old password still works
    });

    it('applies the password policy to the new password, before checking anything else', async () => {
      const session = await login();
      for (const weak of ['short', 'password123', '']) {
        const err = await expectAuthKitError(
          auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: weak }),
          'validation_failed',
        );
        expect(err.issues.map((i) => i.path)).toEqual(['newPassword']);
      }
      await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: 12345678 as unknown as string }),
        'validation_failed',
      );
      await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: '', newPassword: NEW_PASSWORD }),
        'invalid_request',
      );
      await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: ['x'] as unknown as string, newPassword: NEW_PASSWORD }),
        'validation_failed',
      );
      await expectAuthKitError(
        auth.changePassword('1' as unknown as number, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }),
        'validation_failed',
      );
      expect((await auth.authenticate(session.accessToken)).id).toBe(ada.id);
    });

    it('cuts off other sessions and every older access token, keeps the current session with a new access token', async () => {
      const current = await login();
      const other = await login();
      const returned = await auth.changePassword(
        ada.id,
        { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
        { currentSessionId: current.sessionId },
      );
      expect(Object.keys(returned).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
      expect(returned.tokenType).toBe('bearer');

      // Older access tokens, the caller's own included, are refused; the returned one works.
      await expectAuthKitError(auth.authenticate(current.accessToken), 'invalid_token', 'revoked');
      await expectAuthKitError(auth.authenticate(other.accessToken), 'invalid_token', 'revoked');
      const { user, claims } = await auth.authenticateWithClaims(returned.accessToken);
      expect(user.id).toBe(ada.id);
      expect(claims.sid).toBe(current.sessionId);

      // The other session is gone; the current one refreshes on, and its new tokens work.
      await expectAuthKitError(auth.refresh(other.refreshToken), 'invalid_grant');
      expect((await auth.listSessions(ada.id)).map((s) => s.id)).toEqual([current.sessionId]);
      const next = await auth.refresh(current.refreshToken);
      expect(next.sessionId).toBe(current.sessionId);
      expect((await auth.authenticate(next.accessToken)).id).toBe(ada.id);

      // Only the new password logs in.
      await expectAuthKitError(login(), 'invalid_credentials');
      await login(NEW_PASSWORD);
    });

    it('without a current session revokes every session and still returns a working access token', async () => {
      const a = await login();
      const returned = await auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
      await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
      expect(await auth.listSessions(ada.id)).toEqual([]);
      const { claims } = await auth.authenticateWithClaims(returned.accessToken);
      expect(claims.sid).toBeUndefined();
    });

    it("does not keep another user's session named as current", async () => {
      await auth.users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
      const bobs = await auth.login({ username: 'bob@example.com', password: GOOD_PASSWORD });
      const mine = await login();
      const returned = await auth.changePassword(
        ada.id,
        { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
        { currentSessionId: bobs.sessionId },
      );
      expect((await auth.tokens.verifyAccessToken(returned.accessToken)).sid).toBeUndefined();
      await expectAuthKitError(auth.refresh(mine.refreshToken), 'invalid_grant');
      expect((await auth.refresh(bobs.refreshToken)).sessionId).toBe(bobs.sessionId);
    });

    it('counts a wrong current password towards the account lockout, before argon2 once it is reached (S18)', async () => {
      const session = await login();
      clock.advance(1000); // failures count from after the login's success, never in the same millisecond
      const wrong = { currentPassword: 'not-the-password-1', newPassword: NEW_PASSWORD };
      const context = { clientAddress: '203.0.113.7', userAgent: 'lifecycle-test/1' };
      for (let i = 0; i < 5; i += 1) {
        await expectAuthKitError(auth.changePassword(ada.id, wrong, context), 'invalid_current_password');
      }
      const failed = await auth.events.list({ type: 'login_failed', userId: ada.id });
      expect(failed.events).toHaveLength(5);
      expect(failed.events[0]).toMatchObject({ email: 'ada@example.com', ...context });

      // The sixth attempt is refused before the password is looked at: even the right one.
      const refused = await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, context),
        'too_many_attempts',
      );
      expect(refused.retryAfterSeconds).toBe(1);
      expect((await auth.events.list({ type: 'login_throttled', userId: ada.id })).events).toHaveLength(1);
      // The same lockout a password login sees: the account's guesses are shared.
      await expectAuthKitError(login(), 'too_many_attempts');
      expect((await auth.authenticate(session.accessToken)).id).toBe(ada.id); // nothing changed

      // After the delay the right current password goes through, and clears the count.
      clock.advance(1000);
      await auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, context);
      const changed = (await auth.events.list({ type: 'password_changed', userId: ada.id })).events;
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatchObject(context);
      await login(NEW_PASSWORD);
    });

    it('counts failed logins against a password change as well: the two share one count', async () => {
      for (let i = 0; i < 5; i += 1) await expectAuthKitError(login('not-the-password-1'), 'invalid_credentials');
      await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }),
        'too_many_attempts',
      );
    });

    it('refuses a deactivated account', async () => {
      await auth.users.deactivateUser(ada.id);
      await expectAuthKitError(
        auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }),
        'invalid_token',
        'revoked',
      );
    });
  });

  describe('requestPasswordReset', () => {
    it('hands a single-use 256-bit token to the callback and stores only its hash', async () => {
      const before = await login();
      await auth.requestPasswordReset('  ADA@Example.com ');
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail!.user).toMatchObject({ id: ada.id, email: 'ada@example.com' });
      expect(JSON.stringify(mail!.user)).not.toContain('argon2');
      expect(mail!.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(mail!.token, 'base64url').length).toBe(32);
      expect(mail!.expiresAt.getTime()).toBe(clock.now().getTime() + 60 * MINUTE);

      const rows = await t.db.selectFrom('auth_password_reset_tokens').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(mail!.token);
      expect(rows[0]!.token_hash).toBe(sha256(mail!.token));
      expect(rows[0]!.used_at).toBeNull();
      // Asking for a reset changes nothing yet.
      expect((await auth.authenticate(before.accessToken)).id).toBe(ada.id);
      await login();
    });

    it('does nothing visible for an unknown or deactivated email: no callback, no exception, no row', async () => {
      expect(await auth.requestPasswordReset('nobody@example.com')).toBeUndefined();
      await auth.users.createUser({ email: 'off@example.com', password: GOOD_PASSWORD, isActive: false });
      expect(await auth.requestPasswordReset('off@example.com')).toBeUndefined();
      expect(mails).toEqual([]);
      expect(await t.db.selectFrom('auth_password_reset_tokens').selectAll().execute()).toEqual([]);
      await expectAuthKitError(auth.requestPasswordReset('not an email'), 'validation_failed');
      await expectAuthKitError(auth.requestPasswordReset(42 as unknown as string), 'validation_failed');
    });

    it('without sendPasswordResetEmail fails with configuration_error naming the option', async () => {
      const bare = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() }, clock: clock.now });
      const err = await expectAuthKitError(bare.requestPasswordReset('nobody@example.com'), 'configuration_error');
      expect(err.message).toContain('sendPasswordResetEmail');
      await expectAuthKitError(bare.requestPasswordReset('ada@example.com'), 'configuration_error');
    });

    it('honours passwordResetExpireMinutes', async () => {
      const quick = authWith({ passwordResetExpireMinutes: 5 });
      await quick.requestPasswordReset('ada@example.com');
      expect(mails[0]!.expiresAt.getTime()).toBe(clock.now().getTime() + 5 * MINUTE);
      clock.advance(5 * MINUTE);
      await expectAuthKitError(quick.resetPassword(mails[0]!.token, NEW_PASSWORD), 'invalid_grant');
    });

    it('mails at most maxPasswordResetsPerAccount (default 3) outstanding tokens; further requests do nothing visible', async () => {
      const tokens = [await requestToken(), await requestToken(), await requestToken()];
      // The fourth: no mail, no row, and the same resolved promise as for an unknown email.
      expect(await auth.requestPasswordReset('ada@example.com')).toBeUndefined();
      expect(mails).toHaveLength(3);
      expect(await t.db.selectFrom('auth_password_reset_tokens').selectAll().execute()).toHaveLength(3);
      // An outstanding token still works; using it spends the others, so a new request mails again.
      await auth.resetPassword(tokens[1]!, NEW_PASSWORD);
      await requestToken();
      await requestToken();
      await requestToken();
      await auth.requestPasswordReset('ada@example.com'); // three outstanding again: silent
      expect(mails).toHaveLength(6);
      // Expired tokens are not outstanding either.
      clock.advance(60 * MINUTE);
      await requestToken();
    });

    it('holds the limit under a burst of concurrent requests', async () => {
      await Promise.all(Array.from({ length: 20 }, () => auth.requestPasswordReset('ada@example.com')));
      expect(mails).toHaveLength(3);
      const rows = await t.db.selectFrom('auth_password_reset_tokens').select('token_hash').execute();
      expect(rows.map((r) => r.token_hash).sort()).toEqual(mails.map((m) => sha256(m.token)).sort());
    });

    it('maxPasswordResetsPerAccount counts per account and 0 turns the limit off', async () => {
      const unlimited = authWith({ maxPasswordResetsPerAccount: 0 });
      for (let i = 0; i < 5; i += 1) await unlimited.requestPasswordReset('ada@example.com');
      expect(mails).toHaveLength(5);
      // Ada's tokens do not count against Bob.
      await auth.users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
      const one = authWith({ maxPasswordResetsPerAccount: 1 });
      await one.requestPasswordReset('ada@example.com');
      await one.requestPasswordReset('bob@example.com');
      await one.requestPasswordReset('bob@example.com');
      expect(mails.slice(5).map((m) => m.user.email)).toEqual(['bob@example.com']);
    });
  });

  describe('resetPassword', () => {
    it('sets the password, revokes every session and every older access token, and spends the token', async () => {
      const token = await requestToken();
      clock.advance(59 * MINUTE); // still inside the 60-minute lifetime
      const a = await login();
      const b = await auth.refresh((await login()).refreshToken);
      expect(await auth.resetPassword(token, NEW_PASSWORD)).toBeUndefined();

      expect(await auth.listSessions(ada.id)).toEqual([]);
      await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
      await expectAuthKitError(auth.refresh(b.refreshToken), 'invalid_grant');
      await expectAuthKitError(auth.authenticate(a.accessToken), 'invalid_token', 'revoked');
      await expectAuthKitError(auth.authenticate(b.accessToken), 'invalid_token', 'revoked');
      await expectAuthKitError(login(), 'invalid_credentials');
      const fresh = await login(NEW_PASSWORD);
      expect((await auth.authenticate(fresh.accessToken)).id).toBe(ada.id);

      // Used: a second use fails.
      await expectAuthKitError(auth.resetPassword(token, 'yet-another-passphrase-7'), 'invalid_grant');
      await login(NEW_PASSWORD);
    });

    it('refuses an expired token (injected clock), an unknown one and a malformed one', async () => {
      const token = await requestToken();
      clock.advance(60 * MINUTE);
      await expectAuthKitError(auth.resetPassword(token, NEW_PASSWORD), 'invalid_grant');
      await expectAuthKitError(auth.resetPassword(Buffer.alloc(32, 3).toString('base64url'), NEW_PASSWORD), 'invalid_grant');
      await expectAuthKitError(auth.resetPassword('garbage', NEW_PASSWORD), 'invalid_grant');
      await expectAuthKitError(auth.resetPassword('', NEW_PASSWORD), 'invalid_request');
      await expectAuthKitError(auth.resetPassword(7 as unknown as string, NEW_PASSWORD), 'validation_failed');
      await login(); // unchanged
    });

    it('refuses a weak new password without spending the token', async () => {
      const token = await requestToken();
      const err = await expectAuthKitError(auth.resetPassword(token, 'password'), 'validation_failed');
      expect(err.issues.map((i) => i.path)).toEqual(['newPassword']);
      await expectAuthKitError(auth.resetPassword(token, 'short'), 'validation_failed');
      await expectAuthKitError(auth.resetPassword(token, null as unknown as string), 'validation_failed');
      await auth.resetPassword(token, NEW_PASSWORD);
      await login(NEW_PASSWORD);
    });

    it('concurrent uses of one token: exactly one succeeds', async () => {
      const token = await requestToken();
      const candidates = Array.from({ length: 5 }, (_, i) => `${NEW_PASSWORD}-${i}`);
      const results = await Promise.allSettled(candidates.map((p) => auth.resetPassword(token, p)));
      const winners = candidates.filter((_, i) => results[i]!.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(AuthKitError);
          expect((r.reason as AuthKitError).code).toBe('invalid_grant');
        }
      }
      // The stored password is the winner's, and only the winner's.
      await login(winners[0]);
      for (const loser of candidates.filter((p) => p !== winners[0])) {
        await expectAuthKitError(login(loser), 'invalid_credentials');
      }
    });

    it('a successful reset spends every other outstanding reset token of the account', async () => {
      const first = await requestToken();
      const second = await requestToken();
      expect(second).not.toBe(first);
      await auth.resetPassword(second, NEW_PASSWORD);
      await expectAuthKitError(auth.resetPassword(first, 'yet-another-passphrase-7'), 'invalid_grant');
    });

    it('refuses a token of an account deactivated after the request', async () => {
      const token = await requestToken();
      await auth.users.deactivateUser(ada.id);
      await expectAuthKitError(auth.resetPassword(token, NEW_PASSWORD), 'invalid_grant');
    });
  });

  describe('pruneExpired', () => {
    const count = async (table: 'auth_sessions' | 'auth_password_reset_tokens') =>
      (await t.db.selectFrom(table).select('id').execute()).length;

    it('deletes expired sessions and used or expired reset tokens, and nothing that can still be accepted', async () => {
      const used = await requestToken();
      await requestToken(); // spent by the reset below
      await auth.resetPassword(used, NEW_PASSWORD);
      await requestToken(); // expires after an hour

      const ended = await login(NEW_PASSWORD); // its 14 days end first
      clock.advance(HOUR);
      const endedNext = await auth.refresh(ended.refreshToken); // a spent row and a live one, both ending with the session
      clock.advance(10 * DAY);
      const live = await login(NEW_PASSWORD);
      const liveNext = await auth.refresh(live.refreshToken); // the spent row stays for reuse detection
      clock.advance(4 * DAY - HOUR); // exactly the end of the first session
      const outstanding = await requestToken();
      expect(await count('auth_sessions')).toBe(4);
      expect(await count('auth_password_reset_tokens')).toBe(4);

      expect(await auth.pruneExpired()).toEqual({ sessions: 2, passwordResetTokens: 3 });
      expect(await count('auth_sessions')).toBe(2);
      expect(await count('auth_password_reset_tokens')).toBe(1);
      expect(await auth.pruneExpired()).toEqual({ sessions: 0, passwordResetTokens: 0 });

      // The ended session's tokens are refused as before.
      await expectAuthKitError(auth.refresh(endedNext.refreshToken), 'invalid_grant');
      // The live session's spent token is still recognised as reuse: the session dies with it.
      await expectAuthKitError(auth.refresh(live.refreshToken), 'invalid_grant');
      expect((await auth.events.list({ type: 'refresh_reuse_detected' })).events).toHaveLength(1);
      await expectAuthKitError(auth.refresh(liveNext.refreshToken), 'invalid_grant');
      // The outstanding reset token still works.
      await auth.resetPassword(outstanding, GOOD_PASSWORD);
    });

    it('keeps a logged-out session until its lifetime ends, and a reset token until it expires (the same boundaries as the flows)', async () => {
      const loggedInAt = clock.now().getTime();
      const loggedOut = await login();
      await auth.logout(loggedOut.refreshToken);
      await requestToken();
      const resetExpires = mails.at(-1)!.expiresAt.getTime();
      expect(await pruneExpired(t.db, { now: new Date(resetExpires - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
      expect(await pruneExpired(t.db, { now: new Date(resetExpires) })).toEqual({ sessions: 0, passwordResetTokens: 1 });
      const sessionEnds = loggedInAt + 14 * DAY;
      expect(await pruneExpired(t.db, { now: new Date(sessionEnds - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
      expect(await pruneExpired(t.db, { now: new Date(sessionEnds) })).toEqual({ sessions: 1, passwordResetTokens: 0 });
    });

    it('the standalone function takes the time from `now` (default: the system clock); a bad `now` is refused', async () => {
      await login(); // on the fake clock, in 2030
      expect(await pruneExpired(t.db)).toEqual({ sessions: 0, passwordResetTokens: 0 }); // today it is live
      const ends = clock.now().getTime() + 14 * DAY;
      expect(await pruneExpired(t.db, { now: new Date(ends - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
      expect(await pruneExpired(t.db, { now: new Date(ends) })).toEqual({ sessions: 1, passwordResetTokens: 0 });
      for (const now of [new Date('not a date'), '2030-01-01', 0]) {
        await expectAuthKitError(pruneExpired(t.db, { now: now as Date }), 'validation_failed');
      }
    });
  });
});

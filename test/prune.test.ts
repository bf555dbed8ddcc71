/**
 * pruneExpired on every dialect: it deletes exactly the rows that can never be accepted again
 * (ended sessions, used or expired reset tokens) and leaves live sessions — spent rows included,
 * so reuse detection still works — and outstanding reset tokens alone.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAuth, migrate, pruneExpired, type Auth, type PasswordResetMessage } from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';

const NEW_PASSWORD = 'saffron-glacier-48-lantern';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeEachDialect('pruneExpired', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let mails: PasswordResetMessage[];

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    mails = [];
    auth = createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret() },
      clock: clock.now,
      sendPasswordResetEmail: (message) => void mails.push(message),
    });
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const login = () => auth.login({ username: 'ada@example.com', password: NEW_PASSWORD });
  const count = async (table: 'auth_sessions' | 'auth_password_reset_tokens') =>
    (await t.db.selectFrom(table).select('id').execute()).length;
  async function resetToken(): Promise<string> {
    await auth.requestPasswordReset('ada@example.com');
    return mails.at(-1)!.token;
  }

  it('deletes ended sessions and used or expired reset tokens, and nothing that can still be accepted', async () => {
    const used = await resetToken();
    await resetToken(); // spent by the reset below
    await auth.resetPassword(used, NEW_PASSWORD);
    await resetToken(); // expires after an hour

    const ended = await login(); // its 14 days end first
    clock.advance(HOUR);
    const endedNext = await auth.refresh(ended.refreshToken); // a spent row and a live one, both ending with the session
    clock.advance(10 * DAY);
    const live = await login();
    const liveNext = await auth.refresh(live.refreshToken); // the spent row stays for reuse detection
    clock.advance(4 * DAY - HOUR); // exactly the end of the first session
    const outstanding = await resetToken();
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
    const loggedOut = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    await auth.logout(loggedOut.refreshToken);
    await resetToken();
    const resetExpires = mails.at(-1)!.expiresAt.getTime();
    expect(await pruneExpired(t.db, { now: new Date(resetExpires - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
    expect(await pruneExpired(t.db, { now: new Date(resetExpires) })).toEqual({ sessions: 0, passwordResetTokens: 1 });
    const sessionEnds = loggedInAt + 14 * DAY;
    expect(await pruneExpired(t.db, { now: new Date(sessionEnds - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
    expect(await pruneExpired(t.db, { now: new Date(sessionEnds) })).toEqual({ sessions: 1, passwordResetTokens: 0 });
  });

  it('the standalone function takes the time from `now` (default: the system clock); a bad `now` is refused', async () => {
    await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }); // on the fake clock, in 2030
    expect(await pruneExpired(t.db)).toEqual({ sessions: 0, passwordResetTokens: 0 }); // today it is live
    const ends = clock.now().getTime() + 14 * DAY;
    expect(await pruneExpired(t.db, { now: new Date(ends - 1) })).toEqual({ sessions: 0, passwordResetTokens: 0 });
    expect(await pruneExpired(t.db, { now: new Date(ends) })).toEqual({ sessions: 1, passwordResetTokens: 0 });
    for (const now of [new Date('not a date'), '2030-01-01', 0]) {
      await expectAuthKitError(pruneExpired(t.db, { now: now as Date }), 'validation_failed');
    }
  });
});

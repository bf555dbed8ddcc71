/**
 * The brute-force defence wired into `auth.login` (S18), on every dialect, with an injected clock
 * the tests move (no sleeps): the threshold, the delay growing while failures continue, the reset
 * by a success, the same outcome for an existing and an unknown email, the cap of 100 consecutive
 * failures, the optional per-address limits, an overlong password (S5, S10), and the 429 over real
 * HTTP (Express adapter on 127.0.0.1), byte-identical for an existing and an unknown email.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuthKitError, MAX_CONSECUTIVE_FAILED_LOGINS, createAuth, migrate, type Auth, type AuthEventType, type User } from 'auth-kit';
import { authRoutes } from 'auth-kit/express';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';
import { FORM, form, request, type RawResponse } from './support/http-client.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const WRONG = 'wrong-horse-battery-77';

type Outcome = 'ok' | { code: string; message: string; retryAfterSeconds: number | undefined; name: string; reason: unknown; issues: unknown };

describeEachDialect('lockout in the login flow', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let ada: User;
  let resetTokens: string[];

  const makeAuth = (extra: Record<string, unknown> = {}) =>
    createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 2, ...extra },
      clock: clock.now,
      sendPasswordResetEmail: ({ token }) => {
        resetTokens.push(token);
      },
    });

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock('2030-05-01T08:00:00.000Z');
    resetTokens = [];
    auth = makeAuth();
    ada = await auth.users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  /** One login attempt, reduced to what a caller can observe. */
  async function attempt(username: string, password: string, context?: { clientAddress?: string }, on = auth): Promise<Outcome> {
    try {
      await on.login({ username, password }, context);
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(AuthKitError);
      const e = err as AuthKitError;
      return { code: e.code, message: e.message, retryAfterSeconds: e.retryAfterSeconds, name: e.name, reason: e.reason, issues: e.issues };
    }
  }

  const code = (o: Outcome) => (o === 'ok' ? 'ok' : o.code);
  const retry = (o: Outcome) => (o === 'ok' ? undefined : o.retryAfterSeconds);

  async function count(type: AuthEventType, email?: string): Promise<number> {
    let q = t.db.selectFrom('auth_events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', type);
    if (email !== undefined) q = q.where('email', '=', email);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  it('after 5 failures the 6th attempt is refused with retryAfterSeconds, even with the right password', async () => {
    for (let i = 0; i < 5; i++) {
      expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
      if (i < 4) clock.advance(SECOND);
    }
    const refused = await expectAuthKitError(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }), 'too_many_attempts');
    expect(refused.retryAfterSeconds).toBe(1);
    expect(refused.message).toBe('Too many failed attempts; try again later');
    // Refused before the password check: nothing counted as a failure, no session, one login_throttled.
    expect(await count('login_failed')).toBe(5);
    expect(await count('login_throttled', 'ada@example.com')).toBe(1);
    expect(await t.db.selectFrom('auth_sessions').selectAll().execute()).toEqual([]);
    // Once the delay has passed, the right password works (and clears the count).
    clock.advance(SECOND);
    expect(await attempt('ada@example.com', GOOD_PASSWORD)).toBe('ok');
  });

  it('the delay doubles while failures continue; refused attempts do not lengthen it', async () => {
    for (let i = 0; i < 5; i++) expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    const seen: number[] = [];
    for (const delay of [1, 2, 4, 8, 16, 32]) {
      const first = await attempt('ada@example.com', WRONG);
      expect(code(first)).toBe('too_many_attempts');
      seen.push(retry(first)!);
      // Hammering while refused changes nothing.
      expect(retry(await attempt('ada@example.com', GOOD_PASSWORD))).toBe(delay);
      if (delay > 1) {
        clock.advance((delay - 1) * SECOND);
        expect(retry(await attempt('ada@example.com', WRONG))).toBe(1);
        clock.advance(SECOND);
      } else {
        clock.advance(SECOND);
      }
      // The delay has passed: this failure is accepted, and the next delay is twice as long.
      expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    }
    expect(seen).toEqual([1, 2, 4, 8, 16, 32]);
    expect(await count('login_failed', 'ada@example.com')).toBe(11);
  });

  it('a success clears the count', async () => {
    for (let i = 0; i < 4; i++) expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    expect(await attempt('ada@example.com', GOOD_PASSWORD)).toBe('ok');
    // (The count restarts after the success's timestamp: step past it, as any later request would be.)
    clock.advance(SECOND);
    // 4 + 5 failures within the window, but the success in between restarted the count.
    for (let i = 0; i < 5; i++) expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    expect(code(await attempt('ada@example.com', WRONG))).toBe('too_many_attempts');
    // A password change is a success too.
    clock.advance(SECOND);
    expect(await attempt('ada@example.com', GOOD_PASSWORD)).toBe('ok');
    clock.advance(SECOND);
    for (let i = 0; i < 4; i++) expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    await auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: 'copper-lantern-58-willow' });
    clock.advance(SECOND);
    for (let i = 0; i < 5; i++) expect(code(await attempt('ada@example.com', WRONG))).toBe('invalid_credentials');
    expect(code(await attempt('ada@example.com', 'copper-lantern-58-willow'))).toBe('too_many_attempts');
  });

  it('an existing and an unknown email get the same outcome at every step (code, message, retryAfterSeconds)', async () => {
    const both = async (password: string) => {
      const known = await attempt('ada@example.com', password);
      const unknown = await attempt('ghost@example.com', password);
      expect(unknown).toEqual(known);
      return known;
    };
    for (let i = 0; i < 5; i++) expect(code(await both(WRONG))).toBe('invalid_credentials');
    expect(await both(WRONG)).toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 1 });
    clock.advance(SECOND);
    expect(code(await both(WRONG))).toBe('invalid_credentials');
    expect(await both(WRONG)).toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 2 });
    clock.advance(SECOND);
    expect(await both(WRONG)).toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 1 });
    // The events differ only in what the log is for: the user id of the existing account.
    const rows = await t.db.selectFrom('auth_events').select(['type', 'email', 'user_id']).where('type', '=', 'login_failed').execute();
    expect(rows.filter((r) => r.email === 'ada@example.com').every((r) => Number(r.user_id) === ada.id)).toBe(true);
    expect(rows.filter((r) => r.email === 'ghost@example.com').every((r) => r.user_id === null)).toBe(true);
  });

  it('counts a username by the email it is stored under: case, spaces and control characters do not escape the count', async () => {
    const variants = ['ADA@example.com', ' ada@EXAMPLE.com ', 'ada@example.com\u0000', '\tada@example.com\r\n', 'Ada@Example.Com'];
    for (const v of variants) expect(code(await attempt(v, WRONG))).toBe('invalid_credentials');
    expect(await count('login_failed', 'ada@example.com')).toBe(5);
    expect(retry(await attempt('ada@example.com', GOOD_PASSWORD))).toBe(1);
    expect(retry(await attempt('ada@example.com\u0007', GOOD_PASSWORD))).toBe(1);
  });

  it(`accepts at most ${MAX_CONSECUTIVE_FAILED_LOGINS} consecutive failures, however slow; a password reset lifts the lock`, async () => {
    // 16 minutes apart, each failure is alone in its window: the delay never applies, only the cap.
    for (let i = 0; i < MAX_CONSECUTIVE_FAILED_LOGINS; i++) {
      expect(code(await attempt('ada@example.com', `${WRONG}-${i}`))).toBe('invalid_credentials');
      clock.advance(16 * MINUTE);
    }
    expect(await count('login_failed', 'ada@example.com')).toBe(MAX_CONSECUTIVE_FAILED_LOGINS);
    const refused = await expectAuthKitError(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }), 'too_many_attempts');
    expect(refused.retryAfterSeconds).toBe(15 * 60);
    clock.advance(30 * 24 * 60 * MINUTE);
    expect(await attempt('ada@example.com', GOOD_PASSWORD)).toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 900 });
    expect(await count('login_failed', 'ada@example.com')).toBe(MAX_CONSECUTIVE_FAILED_LOGINS);

    await auth.requestPasswordReset('ada@example.com');
    await auth.resetPassword(resetTokens[0], 'amber-falcon-92-thistle');
    expect(await attempt('ada@example.com', 'amber-falcon-92-thistle')).toBe('ok');
  }, 300_000);

  it('per-address limits (when configured): failed logins and registrations per IPv4 address or IPv6 /64', async () => {
    const limited = makeAuth({ maxFailedLoginsPerAddress: 3, maxRegistrationsPerAddress: 2 });
    for (const who of ['a', 'b', 'c']) {
      expect(code(await attempt(`${who}@example.com`, WRONG, { clientAddress: '203.0.113.5' }, limited))).toBe('invalid_credentials');
    }
    // A fresh email from the same address is refused; the same email from another address is not.
    const refused = await attempt('d@example.com', WRONG, { clientAddress: '203.0.113.5' }, limited);
    expect(refused).toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 15 * 60 });
    expect(await attempt('ada@example.com', GOOD_PASSWORD, { clientAddress: '203.0.113.5' }, limited)).toMatchObject({ code: 'too_many_attempts' });
    expect(code(await attempt('d@example.com', WRONG, { clientAddress: '203.0.113.6' }, limited))).toBe('invalid_credentials');
    expect(await attempt('ada@example.com', GOOD_PASSWORD, { clientAddress: '203.0.113.6' }, limited)).toBe('ok');

    for (const host of ['1', '2', '3']) {
      expect(code(await attempt('v6@example.com', WRONG, { clientAddress: `2001:db8:1:2::${host}` }, limited))).toBe('invalid_credentials');
      clock.advance(SECOND);
    }
    // Another address in the same /64 is the same client; the next /64 is another one.
    expect(code(await attempt('w6@example.com', WRONG, { clientAddress: '2001:db8:1:2:ffff::9' }, limited))).toBe('too_many_attempts');
    expect(code(await attempt('w6@example.com', WRONG, { clientAddress: '2001:db8:1:3::1' }, limited))).toBe('invalid_credentials');
    // When the oldest failure leaves the window, the address may try again.
    clock.advance(15 * MINUTE);
    expect(code(await attempt('x@example.com', WRONG, { clientAddress: '203.0.113.5' }, limited))).toBe('invalid_credentials');

    const register = (email: string, clientAddress?: string) =>
      limited.register({ email, password: GOOD_PASSWORD }, clientAddress === undefined ? undefined : { clientAddress });
    await register('r1@example.com', '198.51.100.1');
    await register('r2@example.com', '198.51.100.1');
    const tooMany = await expectAuthKitError(register('r3@example.com', '198.51.100.1'), 'too_many_attempts');
    expect(tooMany.retryAfterSeconds).toBe(15 * 60);
    expect(await limited.users.getUserByEmail('r3@example.com')).toBeNull();
    await register('r3@example.com', '198.51.100.2');
    await register('r4@example.com'); // no address: never limited by address
    expect(await count('user_registered')).toBe(4);
  });

  it('an overlong password fails exactly like a wrong one and is never checked against the real hash', async () => {
    const emoji = '\u{1F600}';
    // At the limit (1024 code points, 2048 UTF-16 units): accepted at registration and at login.
    const longest = emoji.repeat(1024);
    await auth.users.updateUser(ada.id, { password: longest });
    expect(await attempt('ada@example.com', longest)).toBe('ok');
    // One more code point: even if such a hash were stored (by another tool), login refuses it.
    const overlong = emoji.repeat(1025);
    const stored = await auth.passwords.hash(overlong);
    await t.db.updateTable('auth_users').set({ hashed_password: stored }).where('id', '=', ada.id).execute();
    const tooLong = await attempt('ada@example.com', overlong);
    const wrong = await attempt('ada@example.com', WRONG);
    const unknown = await attempt('ghost@example.com', overlong);
    expect(code(tooLong)).toBe('invalid_credentials');
    expect(tooLong).toEqual(wrong);
    expect(unknown).toEqual(wrong);
    expect(await count('login_failed', 'ada@example.com')).toBe(2);
  });

  it('over HTTP: 429 too_many_attempts with Retry-After, byte-identical for an existing and an unknown email', async () => {
    const app = express();
    app.use('/auth', authRoutes(auth));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/token`;
    try {
      const token = (username: string, password: string) =>
        request(url, {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: form({ grant_type: 'password', username, password }),
        });
      /** Status, raw headers in order (without Date) and body: what "byte-identical" compares. */
      const bytes = (r: RawResponse) => {
        const headers: string[] = [];
        for (let i = 0; i < r.rawHeaders.length; i += 2) {
          if (r.rawHeaders[i].toLowerCase() !== 'date') headers.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
        }
        return { status: r.status, headers, body: r.body };
      };

      for (let i = 0; i < 5; i++) {
        const known = await token('ada@example.com', WRONG);
        const unknown = await token('ghost@example.com', WRONG);
        expect(known.status).toBe(401);
        expect(bytes(unknown)).toEqual(bytes(known));
      }
      const known = await token('ada@example.com', GOOD_PASSWORD);
      const unknown = await token('ghost@example.com', GOOD_PASSWORD);
      expect(known.status).toBe(429);
      expect(known.headers['retry-after']).toBe('1');
      expect(known.headers['cache-control']).toBe('no-store');
      expect(known.json()).toMatchObject({ error: 'too_many_attempts' });
      expect(Object.keys(known.json()).sort()).toEqual(['error', 'error_description']);
      expect(bytes(unknown)).toEqual(bytes(known));

      // Growth is visible over HTTP too.
      clock.advance(SECOND);
      await token('ada@example.com', WRONG);
      await token('ghost@example.com', WRONG);
      const later = [await token('ada@example.com', WRONG), await token('ghost@example.com', WRONG)];
      expect(later.map((r) => [r.status, r.headers['retry-after']])).toEqual([
        [429, '2'],
        [429, '2'],
      ]);
      expect(bytes(later[1])).toEqual(bytes(later[0]));
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });

  it('a refused attempt is not an answer about the password: the same refusal for right and wrong ones', async () => {
    for (let i = 0; i < 5; i++) await attempt('ada@example.com', WRONG);
    const right = await caught(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
    const wrong = await caught(auth.login({ username: 'ada@example.com', password: WRONG }));
    expect(right).toEqual(wrong);
    expect((right as AuthKitError).retryAfterSeconds).toBe((wrong as AuthKitError).retryAfterSeconds);
  });
});

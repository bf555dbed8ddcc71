import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AttemptAllowance,
  type AuthEventType,
  AuthKitError,
  MAX_CONSECUTIVE_FAILED_LOGINS,
  checkAddressAllowed,
  checkLoginAllowed,
  clearLoginFailures,
  clientAddressKey,
  createUserService,
  loadSettings,
  lockoutDelaySeconds,
  migrate,
  normalizeIpAddress,
  parseTrustedProxies,
  recordEvent,
  resolveClientAddress,
  tooManyAttempts,
} from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { expectAuthKitError, GOOD_PASSWORD, newSecret } from './support/helpers.js';

const T0 = new Date('2030-05-01T08:00:00.000Z').getTime();
const sec = (s: number) => new Date(T0 + s * 1000);
const POLICY = { maxFailedLogins: 5, windowMinutes: 15 };

describe('lockoutDelaySeconds', () => {
  it('is 0 below the threshold, then doubles, capped at the window', () => {
    expect([0, 4].map((n) => lockoutDelaySeconds(n, 5, 15))).toEqual([0, 0]);
    expect([5, 6, 7, 8, 9, 14, 15, 50].map((n) => lockoutDelaySeconds(n, 5, 15))).toEqual([1, 2, 4, 8, 16, 512, 900, 900]);
    expect(lockoutDelaySeconds(99, 0, 15)).toBe(0);
    expect(lockoutDelaySeconds(3, 3, 1)).toBe(1);
    expect(lockoutDelaySeconds(12, 3, 1)).toBe(60);
  });

  it('tooManyAttempts carries the retry delay and a message that names nobody', () => {
    const err = tooManyAttempts(17);
    expect(err).toBeInstanceOf(AuthKitError);
    expect(err.code).toBe('too_many_attempts');
    expect(err.retryAfterSeconds).toBe(17);
    expect(err.message).toBe('Too many failed attempts; try again later');
  });
});

describeEachDialect('login throttle', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const record = (type: AuthEventType, email: string, when: Date, db = t.db) => recordEvent(db, { type, email }, { clock: () => when });
  const fail = (email: string, when: Date, db = t.db) => record('login_failed', email, when, db);
  const check = (email: string, now: Date, policy = POLICY, db = t.db) => checkLoginAllowed(db, email, { ...policy, now });

  it('allows the first failures, then refuses with a delay that grows while failures continue', async () => {
    const email = 'ada@example.com';
    for (let i = 0; i < 4; i++) {
      expect(await check(email, sec(i))).toEqual({ allowed: true });
      await fail(email, sec(i));
    }
    expect(await check(email, sec(4))).toEqual({ allowed: true });
    await fail(email, sec(4)); // 5th failure in the window: the delay starts at 1 s
    expect(await check(email, sec(4))).toEqual({ allowed: false, retryAfterSeconds: 1, reason: 'too_many_failures' });
    expect(await check(email, sec(4.5))).toEqual({ allowed: false, retryAfterSeconds: 1, reason: 'too_many_failures' });
    expect(await check(email, sec(5))).toEqual({ allowed: true });

    // Each further failure doubles the delay: 2, 4, 8 … 256 seconds after the last failure (all
    // of these failures are still inside the 15-minute window).
    let now = 5;
    for (const expected of [2, 4, 8, 16, 32, 64, 128, 256]) {
      await fail(email, sec(now));
      expect(await check(email, sec(now))).toEqual({ allowed: false, retryAfterSeconds: expected, reason: 'too_many_failures' });
      expect(await check(email, sec(now + expected - 0.5))).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
      now += expected;
      expect(await check(email, sec(now))).toEqual({ allowed: true });
    }
    expect(now).toBe(515);
    await fail(email, sec(now)); // 14 in the window: 512 s
    expect(await check(email, sec(now))).toEqual({ allowed: false, retryAfterSeconds: 512, reason: 'too_many_failures' });
    // The window slides: 900 s after the 6th failure's time only the last ones count, the delay shrinks.
    expect(await check(email, sec(now + 511))).toEqual({ allowed: true });
  });

  it('caps the delay at the window when many failures land at once (concurrent attempts)', async () => {
    const email = 'burst@example.com';
    await Promise.all(Array.from({ length: 16 }, () => fail(email, sec(0))));
    // 2^(16-5) = 2048 s, capped at the 15-minute window.
    expect(await check(email, sec(0))).toEqual({ allowed: false, retryAfterSeconds: 900, reason: 'too_many_failures' });
    expect(await check(email, sec(899))).toEqual({ allowed: false, retryAfterSeconds: 1, reason: 'too_many_failures' });
    expect(await check(email, sec(900))).toEqual({ allowed: true });
  });

  it('forgets failures older than the window', async () => {
    const email = 'bea@example.com';
    for (let i = 0; i < 5; i++) await fail(email, sec(i));
    expect((await check(email, sec(4))).allowed).toBe(false);
    // 15 minutes after the 2nd failure only 3 remain in the window.
    expect(await check(email, sec(1 + 15 * 60 + 0.001))).toEqual({ allowed: true });
    // Much later only the new failure is in the window.
    await fail(email, sec(1000));
    expect(await check(email, sec(1000))).toEqual({ allowed: true });
  });

  it('clears the count on a success, a password reset, a password change or an admin clear', async () => {
    for (const [i, reset] of (['login_succeeded', 'password_reset', 'password_changed', 'lockout_cleared'] as const).entries()) {
      const email = `reset${i}@example.com`;
      for (let k = 0; k < 5; k++) await fail(email, sec(k));
      expect((await check(email, sec(5))).allowed).toBe(true); // delay of 1 s passed
      await fail(email, sec(5)); // 6 failures: 2 s
      expect((await check(email, sec(6))).allowed).toBe(false);
      if (reset === 'lockout_cleared') await clearLoginFailures(t.db, email.toUpperCase(), { clock: () => sec(6) });
      else await record(reset, email, sec(6));
      expect(await check(email, sec(6))).toEqual({ allowed: true });
      for (let k = 0; k < 4; k++) await fail(email, sec(7 + k));
      expect(await check(email, sec(11))).toEqual({ allowed: true });
      await fail(email, sec(11));
      expect(await check(email, sec(11))).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    }
  });

  it('keys on the normalised email; other emails and their successes do not count', async () => {
    for (let i = 0; i < 5; i++) await fail(`  Cy@Example.COM `, sec(i));
    expect((await check('cy@example.com', sec(4))).allowed).toBe(false);
    expect((await check('CY@example.com ', sec(4))).allowed).toBe(false);
    await record('login_succeeded', 'someone-else@example.com', sec(4));
    expect((await check('cy@example.com', sec(4))).allowed).toBe(false);
    expect(await check('other@example.com', sec(4))).toEqual({ allowed: true });
  });

  it('answers identically for an existing and an unknown account', async () => {
    const users = createUserService(t.db);
    await users.createUser({ email: 'real@example.com', password: GOOD_PASSWORD });
    const script: [number, 'fail' | 'check'][] = [];
    for (let i = 0; i < 12; i++) script.push([i * 3, 'fail'], [i * 3 + 1, 'check'], [i * 3 + 2.5, 'check']);
    const verdicts = async (email: string) => {
      const out: AttemptAllowance[] = [];
      for (const [s, action] of script) {
        if (action === 'fail') await fail(email, sec(s));
        else out.push(await check(email, sec(s)));
      }
      return out;
    };
    const known = await verdicts('real@example.com');
    const unknown = await verdicts('ghost@example.com');
    expect(unknown).toEqual(known);
    expect(known.some((v) => !v.allowed)).toBe(true);
    expect(known.some((v) => v.allowed)).toBe(true);
  });

  it(`refuses after ${MAX_CONSECUTIVE_FAILED_LOGINS} consecutive failures, whatever their age, until a reset`, async () => {
    const email = 'dan@example.com';
    // One failure per hour: never 5 in the window, so only the consecutive cap applies.
    const hour = 3600;
    for (let i = 0; i < MAX_CONSECUTIVE_FAILED_LOGINS - 1; i++) await fail(email, sec(i * hour));
    expect(await check(email, sec(99 * hour))).toEqual({ allowed: true });
    await fail(email, sec(99 * hour));
    const locked = { allowed: false, retryAfterSeconds: 900, reason: 'consecutive_limit' };
    expect(await check(email, sec(99 * hour + 1))).toEqual(locked);
    expect(await check(email, sec(400 * hour))).toEqual(locked); // weeks later: still locked
    // Also with the windowed lockout disabled.
    expect(await check(email, sec(400 * hour), { maxFailedLogins: 0, windowMinutes: 15 })).toEqual(locked);
    // A password reset (a success elsewhere) unlocks.
    await record('password_reset', email, sec(400 * hour));
    expect(await check(email, sec(400 * hour))).toEqual({ allowed: true });
  });

  it('with maxFailedLogins 0 only the consecutive cap applies', async () => {
    const email = 'eve@example.com';
    const off = { maxFailedLogins: 0, windowMinutes: 15 };
    for (let i = 0; i < 99; i++) await fail(email, sec(i));
    expect(await check(email, sec(99), off)).toEqual({ allowed: true });
    await fail(email, sec(99));
    expect(await check(email, sec(99), off)).toMatchObject({ allowed: false, reason: 'consecutive_limit' });
  });

  it('never tells a client to wait longer than the delay, even when another clock runs ahead', async () => {
    const email = 'fay@example.com';
    for (let i = 0; i < 6; i++) await fail(email, sec(100 + i)); // the last one "in the future"
    expect(await check(email, sec(10))).toEqual({ allowed: false, retryAfterSeconds: 2, reason: 'too_many_failures' });
  });

  it('rejects nonsense options', async () => {
    await expectAuthKitError(checkLoginAllowed(t.db, 'a@b.c', { maxFailedLogins: -1, windowMinutes: 15 }), 'configuration_error');
    await expectAuthKitError(checkLoginAllowed(t.db, 'a@b.c', { maxFailedLogins: 5, windowMinutes: 0 }), 'configuration_error');
    await expectAuthKitError(checkLoginAllowed(t.db, 'a@b.c', { maxFailedLogins: 1.5, windowMinutes: 15 }), 'configuration_error');
  });

  it('per-address limit: IPv6 grouped by /64, IPv4-mapped as IPv4, refusing until the oldest leaves the window', async () => {
    const opts = { limit: 3, windowMinutes: 15, type: 'login_failed' as const };
    const failFrom = (address: string, s: number, email = 'x@example.com') =>
      recordEvent(t.db, { type: 'login_failed', email, clientAddress: address }, { clock: () => sec(s) });
    await failFrom('2001:db8:1:2::a', 0, 'a@example.com');
    await failFrom('2001:0db8:0001:0002:ffff::b', 10, 'b@example.com');
    expect(await checkAddressAllowed(t.db, '2001:db8:1:2:dead:beef:0:1', { ...opts, now: sec(20) })).toEqual({ allowed: true });
    await failFrom('2001:db8:1:2::c', 20, 'c@example.com');
    expect(await checkAddressAllowed(t.db, '2001:db8:1:2::d', { ...opts, now: sec(30) })).toEqual({
      allowed: false,
      retryAfterSeconds: 15 * 60 - 30,
      reason: 'address_limit',
    });
    // Another /64 and the unlimited cases.
    expect(await checkAddressAllowed(t.db, '2001:db8:1:3::d', { ...opts, now: sec(30) })).toEqual({ allowed: true });
    expect(await checkAddressAllowed(t.db, '2001:db8:1:2::d', { ...opts, limit: 0, now: sec(30) })).toEqual({ allowed: true });
    expect(await checkAddressAllowed(t.db, null, { ...opts, now: sec(30) })).toEqual({ allowed: true });
    expect(await checkAddressAllowed(t.db, '2001:db8:1:2::d', { ...opts, type: 'user_registered', now: sec(30) })).toEqual({ allowed: true });
    // Once the oldest leaves the window, two remain: allowed.
    expect(await checkAddressAllowed(t.db, '2001:db8:1:2::d', { ...opts, now: sec(15 * 60 + 0.5) })).toEqual({ allowed: true });

    for (let i = 0; i < 3; i++) await failFrom('::ffff:192.0.2.50', 100 + i);
    expect(await checkAddressAllowed(t.db, '192.0.2.50', { ...opts, now: sec(103) })).toMatchObject({ allowed: false });
    expect(await checkAddressAllowed(t.db, '192.0.2.51', { ...opts, now: sec(103) })).toEqual({ allowed: true });
  });
});

describeEachDialect('login throttle across processes', (dialect) => {
  it('two independent handles on one database count the same failures', async ({ skip }) => {
    if (dialect.name === 'sqlite-memory') skip('an in-memory SQLite database has one handle');
    const a = await dialect.open();
    let b: Kysely<any> | undefined;
    try {
      await migrate(a.db);
      if (a.dialect === 'postgres') {
        b = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: a.url, max: 2 }) }) });
      } else {
        const { createSqliteDatabase } = await import('auth-kit/sqlite');
        b = createSqliteDatabase(a.url.replace(/^sqlite:\/\/\//, ''));
      }
      const email = 'shared@example.com';
      for (let i = 0; i < 5; i++) await recordEvent(i % 2 ? a.db : b, { type: 'login_failed', email }, { clock: () => sec(i) });
      for (const db of [a.db, b]) {
        expect(await checkLoginAllowed(db, email, { ...POLICY, now: sec(4) })).toMatchObject({ allowed: false });
      }
    } finally {
      await b?.destroy();
      await a.cleanup();
    }
  });
});

describe('client address', () => {
  const req = (remoteAddress: string | undefined, xff?: string | string[]) => ({
    remoteAddress,
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  });

  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(resolveClientAddress(req('198.51.100.2', '203.0.113.9'))).toBe('198.51.100.2');
    expect(resolveClientAddress(req('198.51.100.2', '203.0.113.9'), { trustedProxies: [] })).toBe('198.51.100.2');
  });

  it('ignores a forged X-Forwarded-For from an untrusted peer', () => {
    const trustedProxies = ['10.0.0.0/8', 'loopback'];
    expect(resolveClientAddress(req('198.51.100.2', '10.0.0.7, 127.0.0.1, 1.2.3.4'), { trustedProxies })).toBe('198.51.100.2');
    expect(resolveClientAddress(req('::ffff:198.51.100.2', '1.2.3.4'), { trustedProxies })).toBe('198.51.100.2');
  });

  it('behind trusted proxies takes the right-most untrusted entry, so a forged left part is never reached', () => {
    const trustedProxies = parseTrustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48', '::1']);
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the real address.
    expect(resolveClientAddress(req('10.0.0.1', '6.6.6.6, 203.0.113.9'), { trustedProxies })).toBe('203.0.113.9');
    // Two proxies in a row.
    expect(resolveClientAddress(req('10.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2'), { trustedProxies })).toBe('203.0.113.9');
    // Several headers, IPv6, ports and brackets.
    expect(resolveClientAddress(req('::1', ['6.6.6.6', '[2A00:1450:4001::0:5]:443, 2001:db8:ffff::9']), { trustedProxies })).toBe(
      '2a00:1450:4001::5',
    );
    expect(resolveClientAddress(req('10.9.9.9', '203.0.113.9:51234'), { trustedProxies })).toBe('203.0.113.9');
    // IPv4-mapped peer of a trusted IPv4 range.
    expect(resolveClientAddress(req('::ffff:10.1.2.3', '203.0.113.10'), { trustedProxies })).toBe('203.0.113.10');
    // No header: the proxy itself.
    expect(resolveClientAddress(req('10.0.0.1'), { trustedProxies })).toBe('10.0.0.1');
    // Garbage in the right-most entry stops at the proxy that passed it on.
    expect(resolveClientAddress(req('10.0.0.1', '203.0.113.9, <script>'), { trustedProxies })).toBe('10.0.0.1');
    // Every entry trusted: the left-most.
    expect(resolveClientAddress(req('10.0.0.1', '10.0.0.3, 10.0.0.2'), { trustedProxies })).toBe('10.0.0.3');
  });

  it('returns null without a usable socket address', () => {
    expect(resolveClientAddress(req(undefined, '1.2.3.4'))).toBeNull();
    expect(resolveClientAddress(req('not-an-ip'))).toBeNull();
  });

  it('normalises addresses and computes the per-address key', () => {
    expect(normalizeIpAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIpAddress('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIpAddress('::ffff:c000:0201')).toBe('192.0.2.1');
    expect(normalizeIpAddress('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIpAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIpAddress('::')).toBe('::');
    expect(normalizeIpAddress('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '::1.2.3.4:5', 'x']) {
      expect(normalizeIpAddress(bad), bad).toBeNull();
    }
    expect(clientAddressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddressKey('nope')).toBeNull();
  });

  it('gives the same answers when asked again, in either order and after many other addresses', () => {
    // Parsed forms are remembered (bounded, starting over when full): they must never go stale or mix.
    const expected = (i: number) => ({ text: `2001:DB8:${i.toString(16)}:2::${(i % 7) + 1}`, normalized: `2001:db8:${i.toString(16)}:2::${(i % 7) + 1}`, key: `2001:db8:${i.toString(16)}:2::/64` });
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 1500; i++) {
        const { text, normalized, key } = expected(i);
        if (i % 2 === 0) {
          expect(clientAddressKey(text)).toBe(key);
          expect(normalizeIpAddress(text)).toBe(normalized);
        } else {
          expect(normalizeIpAddress(text)).toBe(normalized);
          expect(clientAddressKey(text)).toBe(key);
        }
      }
    }
    expect(normalizeIpAddress(`${'1'.repeat(100)}`)).toBeNull();
    expect(normalizeIpAddress('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    for (let i = 0; i < 2; i++) {
      // Surrounding spaces, and values that are not strings (JavaScript callers), asked twice.
      expect(normalizeIpAddress(' 192.0.2.1 ')).toBe('192.0.2.1');
      expect(clientAddressKey(' 192.0.2.1 ')).toBe('192.0.2.1');
      for (const bad of [123, undefined, null, {}]) {
        expect(normalizeIpAddress(bad as unknown as string)).toBeNull();
        expect(clientAddressKey(bad as unknown as string)).toBeNull();
      }
    }
  });

  it('refuses an invalid trusted-proxy entry at configuration time, naming it', () => {
    for (const bad of ['10.0.0.0/33', '::1/129', 'proxy.example.com', '10.0.0.1:80', '[::1]']) {
      expect(() => parseTrustedProxies([bad]), bad).toThrowError(/AUTH_TRUSTED_PROXIES/);
    }
    const p = parseTrustedProxies('loopback, uniquelocal,192.0.2.0/24');
    expect(p.has('127.8.9.1')).toBe(true);
    expect(p.has('::1')).toBe(true);
    expect(p.has('fd12::1')).toBe(true);
    expect(p.has('172.31.255.255')).toBe(true);
    expect(p.has('172.32.0.0')).toBe(false);
    expect(p.has('192.0.2.200')).toBe(true);
    expect(p.has('192.0.3.1')).toBe(false);
    expect(parseTrustedProxies(['::ffff:10.0.0.0/104']).has('10.200.0.1')).toBe(true);
  });
});

describe('lockout settings', () => {
  const base = { JWT_SECRET_KEY: newSecret() };
  it('defaults to 5 failures in 15 minutes, no per-address limit, no trusted proxy', () => {
    const s = loadSettings(base);
    expect(s.maxFailedLogins).toBe(5);
    expect(s.lockoutWindowMinutes).toBe(15);
    expect(s.maxFailedLoginsPerAddress).toBe(0);
    expect(s.maxRegistrationsPerAddress).toBe(0);
    expect(s.trustedProxies).toEqual([]);
  });
  it('reads the environment and validates it', () => {
    const s = loadSettings({
      ...base,
      AUTH_MAX_FAILED_LOGINS: '0',
      AUTH_LOCKOUT_WINDOW_MINUTES: '30',
      AUTH_MAX_FAILED_LOGINS_PER_ADDRESS: '50',
      AUTH_MAX_REGISTRATIONS_PER_ADDRESS: '10',
      AUTH_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8',
    });
    expect(s).toMatchObject({ maxFailedLogins: 0, lockoutWindowMinutes: 30, maxFailedLoginsPerAddress: 50, maxRegistrationsPerAddress: 10 });
    expect(s.trustedProxies).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
    expect(() => loadSettings({ ...base, AUTH_MAX_FAILED_LOGINS: '101' })).toThrowError(/AUTH_MAX_FAILED_LOGINS/);
    expect(() => loadSettings({ ...base, AUTH_LOCKOUT_WINDOW_MINUTES: '0' })).toThrowError(/AUTH_LOCKOUT_WINDOW_MINUTES/);
    expect(() => loadSettings({ ...base, AUTH_TRUSTED_PROXIES: 'localhost' })).toThrowError(/AUTH_TRUSTED_PROXIES/);
  });
  it('limits outstanding password resets to 3 per account by default; AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT changes it', () => {
    expect(loadSettings(base).maxPasswordResetsPerAccount).toBe(3);
    expect(loadSettings({ ...base, AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT: '0' }).maxPasswordResetsPerAccount).toBe(0);
    expect(loadSettings({ ...base, AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT: '10' }).maxPasswordResetsPerAccount).toBe(10);
    for (const bad of ['-1', '2.5', 'many']) {
      expect(() => loadSettings({ ...base, AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT: bad })).toThrowError(/AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT/);
    }
  });
});

/**
 * authenticate() on every dialect: it memoises signature verification per exact token string,
 * so these tests check that nothing that can change is memoised with it — expiry follows the
 * clock, and deactivation, password changes, logout-all and deleted users take effect at once,
 * even for a token that verified a moment before.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAuth, migrate, type Auth } from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';

describeEachDialect('authenticate', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let userId: number;
  let accessToken: string;

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), accessTokenExpireMinutes: 5 }, clock: clock.now });
    userId = (await auth.register({ email: 'cache@example.com', password: GOOD_PASSWORD })).id;
    ({ accessToken } = await auth.login({ username: 'cache@example.com', password: GOOD_PASSWORD }));
    // Verified once: from here on the token's signature check is memoised.
    expect((await auth.authenticate(accessToken)).id).toBe(userId);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('accepts the same token again, and reads the current user each time', async () => {
    await auth.users.updateUser(userId, { fullName: 'Renamed' });
    expect((await auth.authenticate(accessToken)).fullName).toBe('Renamed');
  });

  it('rejects a remembered token once the clock passes its exp, and at exp exactly', async () => {
    clock.advance(5 * 60 * 1000 - 1000);
    expect((await auth.authenticate(accessToken)).id).toBe(userId);
    clock.advance(1000);
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'expired');
  });

  it('rejects a remembered token after deactivation, a password change or logout-all', async () => {
    await auth.users.deactivateUser(userId);
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'revoked');
    await auth.users.updateUser(userId, { isActive: true });
    // Reactivation does not bring old tokens back: deactivation moved the token version on.
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'revoked');

    const fresh = (await auth.login({ username: 'cache@example.com', password: GOOD_PASSWORD })).accessToken;
    expect((await auth.authenticate(fresh)).id).toBe(userId);
    await auth.users.updateUser(userId, { password: 'another-quartz-anchor-72' });
    await expectAuthKitError(auth.authenticate(fresh), 'invalid_token', 'revoked');

    const third = (await auth.login({ username: 'cache@example.com', password: 'another-quartz-anchor-72' })).accessToken;
    expect((await auth.authenticate(third)).id).toBe(userId);
    await auth.logoutAll(userId);
    await expectAuthKitError(auth.authenticate(third), 'invalid_token', 'revoked');
  });

  it('rejects a remembered token whose user row is gone', async () => {
    await t.db.deleteFrom('auth_users').where('id', '=', userId).execute();
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'revoked');
  });

  it('does not let a remembered token vouch for a tampered copy', async () => {
    const [h, p, s] = accessToken.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
    await expectAuthKitError(auth.authenticate(flipped), 'invalid_token');
  });

  it('refuses a token that is not a string with invalid_token, never a TypeError', async () => {
    for (const bad of [undefined, null, 123, {}, ['x']]) {
      await expectAuthKitError(auth.authenticate(bad as unknown as string), 'invalid_token');
    }
    expect((await auth.authenticate(accessToken)).id).toBe(userId);
  });

  it('does not let a remembered token vouch for another payload or header under its signature', async () => {
    const [h, p, s] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const otherPayload = Buffer.from(JSON.stringify({ ...claims, exp: (claims.exp as number) + 3600 })).toString('base64url');
    await expectAuthKitError(auth.authenticate(`${h}.${otherPayload}.${s}`), 'invalid_token');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const otherHeader = Buffer.from(JSON.stringify({ ...header, kid: 'x' })).toString('base64url');
    await expectAuthKitError(auth.authenticate(`${otherHeader}.${p}.${s}`), 'invalid_token');
    // The genuine token is still remembered and still accepted.
    expect((await auth.authenticate(accessToken)).id).toBe(userId);
  });
});

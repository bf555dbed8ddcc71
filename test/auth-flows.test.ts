/**
 * createAuth flows on every dialect: register ignores privileged fields (S7), login and its
 * indistinguishable failures (S10) with exactly one argon2 operation on every path, required
 * fields (S11 in the core), rehash on login (S3), authenticate and revocation (S15).
 */
import { hash as rawArgon2Hash } from '@node-rs/argon2';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuthKitError, createAuth, createPasswordHasher, migrate, type Auth, type User } from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, fakeClock, newSecret, tick, type FakeClock } from './support/helpers.js';

const USER_KEYS = ['createdAt', 'email', 'fullName', 'id', 'isActive', 'updatedAt'];
const CURRENT_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

/** The observable parts of an error, for "byte-identical" comparisons. */
function errorShape(err: unknown) {
  const e = err as AuthKitError;
  return { name: e.name, code: e.code, message: e.message, reason: e.reason, issues: e.issues, cause: e.cause, class: e.constructor };
}

/**
 * Counts the argon2 operations `action` runs on `auth.passwords` (cap 1), without timing.
 * Its operations are those in flight or queued that are not ours. An argon2 operation always
 * spans at least one turn of the event loop (it completes through a thread-pool callback), so
 * checking once per turn sees every one. Two operations in a row could hand over inside one
 * turn, so once the first is seen we queue a probe hash right behind it: a second operation
 * would then have to wait for the probe, and is seen when the probe ends.
 */
async function argon2OperationsOf(auth: Auth, action: () => Promise<unknown>): Promise<{ ops: number; error: unknown }> {
  const h = auth.passwords;
  expect([h.inFlight, h.queued]).toEqual([0, 0]);
  let mine = 0;
  const theirs = () => h.inFlight + h.queued - mine;
  let settled = false;
  let error: unknown;
  const attempt = action().then(
    () => (settled = true),
    (e: unknown) => {
      settled = true;
      error = e;
    },
  );
  let ops = 0;
  while (!settled && theirs() === 0) await tick();
  if (theirs() > 0) {
    ops = 1;
    mine++;
    const probe = h.hash('probe-password-1').finally(() => mine--);
    expect(h.queued).toBeGreaterThanOrEqual(1);
    await probe;
    while (!settled || theirs() > 0) {
      if (theirs() > 0) {
        ops++;
        while (theirs() > 0) await tick();
      }
      await tick();
    }
  }
  await attempt;
  expect([h.inFlight, h.queued]).toEqual([0, 0]);
  return { ops, error };
}

describeEachDialect('createAuth flows', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  const settings = () => ({ jwtSecretKey: newSecret(), maxConcurrentHashes: 2, maxFailedLogins: 0 });

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    auth = createAuth({ db: t.db, settings: settings(), clock: clock.now });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('register ignores privileged fields: id, isActive, hashedPassword, role, createdAt are not stored (S7)', async () => {
    const planted = await createPasswordHasher().hash('attacker-chosen-password');
    const user = await auth.register({
      email: ' Eve@Example.com ',
      password: GOOD_PASSWORD,
      fullName: 'Eve',
      id: 999_999,
      isActive: false,
      is_active: false,
      hashedPassword: planted,
      hashed_password: planted,
      role: 'admin',
      createdAt: '2000-01-01T00:00:00.000Z',
      created_at: '2000-01-01T00:00:00.000Z',
      tokenVersion: 99,
      token_version: 99,
    } as never);
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(user).toMatchObject({ email: 'eve@example.com', fullName: 'Eve', isActive: true, updatedAt: null });
    expect(user.id).not.toBe(999_999);
    expect(user.createdAt.toISOString()).toBe('2030-01-01T00:00:00.000Z');

    const row = await t.db.selectFrom('auth_users').selectAll().where('email', '=', 'eve@example.com').executeTakeFirstOrThrow();
    expect(Object.keys(row)).not.toContain('role');
    expect(Number(row.id)).toBe(user.id);
    expect(Number(row.id)).not.toBe(999_999);
    expect([true, 1]).toContain(row.is_active);
    expect(Number(row.token_version)).toBe(0);
    expect(row.hashed_password).not.toBe(planted);
    expect(row.hashed_password).toMatch(CURRENT_PHC);
    expect(new Date(row.created_at).toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(await t.db.selectFrom('auth_users').select('id').where('id', '=', 999_999).executeTakeFirst()).toBeUndefined();

    await expectAuthKitError(auth.login({ username: 'eve@example.com', password: 'attacker-chosen-password' }), 'invalid_credentials');
    expect((await auth.login({ username: 'eve@example.com', password: GOOD_PASSWORD })).tokenType).toBe('bearer');
  });

  it('register validates its input and refuses a duplicate email (any case)', async () => {
    await expectAuthKitError(auth.register({ email: 'not-an-email', password: GOOD_PASSWORD }), 'validation_failed');
    await expectAuthKitError(auth.register({ email: 'a@example.com', password: 'short' }), 'validation_failed');
    await expectAuthKitError(auth.register(null as never), 'validation_failed');
    await auth.register({ email: 'a@example.com', password: GOOD_PASSWORD });
    const dup = await expectAuthKitError(auth.register({ email: 'A@EXAMPLE.COM', password: GOOD_PASSWORD }), 'email_already_registered');
    expect(dup.message).toBe('Email already registered');
    expect(await auth.users.countUsers()).toBe(1);
  });

  it('login returns a bearer access token that authenticates its user; the username is case-insensitive', async () => {
    const user = await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const res = await auth.login({ username: '  ADA@example.com ', password: GOOD_PASSWORD });
    expect(res).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    expect(typeof res.accessToken).toBe('string');
    const me = await auth.authenticate(res.accessToken);
    expect(Object.keys(me).sort()).toEqual(USER_KEYS);
    expect(me).toEqual(user);
    const claims = await auth.tokens.verifyAccessToken(res.accessToken);
    expect(claims.sub).toBe(String(user.id));
    expect(claims.iat).toBe(clock.seconds());
  });

  it('unknown email, wrong password and inactive account fail identically (S10)', async () => {
    await auth.register({ email: 'known@example.com', password: GOOD_PASSWORD });
    const off = await auth.register({ email: 'off@example.com', password: GOOD_PASSWORD });
    await auth.users.deactivateUser(off.id);

    const unknown = await caught(auth.login({ username: 'nobody@example.com', password: GOOD_PASSWORD }));
    const wrong = await caught(auth.login({ username: 'known@example.com', password: `${GOOD_PASSWORD}x` }));
    const inactive = await caught(auth.login({ username: 'off@example.com', password: GOOD_PASSWORD }));
    expect(errorShape(unknown)).toEqual(errorShape(wrong));
    expect(errorShape(inactive)).toEqual(errorShape(wrong));
    expect(errorShape(wrong)).toMatchObject({ name: 'AuthKitError', code: 'invalid_credentials', message: 'Incorrect email or password', cause: undefined });
    expect(JSON.stringify(unknown)).toBe(JSON.stringify(wrong));
    expect(JSON.stringify(inactive)).toBe(JSON.stringify(wrong));
  });

  it('every login path runs exactly one argon2 operation, the unknown email included (S10)', async () => {
    const one = createAuth({ db: t.db, settings: { ...settings(), maxConcurrentHashes: 1 }, clock: clock.now });
    await one.register({ email: 'known@example.com', password: GOOD_PASSWORD });
    const off = await one.register({ email: 'off@example.com', password: GOOD_PASSWORD });
    await one.users.deactivateUser(off.id);
    // The dummy hash is made once, lazily, on the first unknown email; from then on it is one verify.
    await caught(one.login({ username: 'warm-up@example.com', password: GOOD_PASSWORD }));

    const paths: [string, () => Promise<unknown>][] = [
      ['unknown email', () => one.login({ username: 'nobody@example.com', password: GOOD_PASSWORD })],
      ['wrong password', () => one.login({ username: 'known@example.com', password: 'not-the-password-1' })],
      ['inactive account', () => one.login({ username: 'off@example.com', password: GOOD_PASSWORD })],
      ['success', () => one.login({ username: 'known@example.com', password: GOOD_PASSWORD })],
    ];
    for (const [name, action] of paths) {
      const { ops, error } = await argon2OperationsOf(one, action);
      expect(ops, name).toBe(1);
      if (name === 'success') expect(error).toBeUndefined();
      else expect((error as AuthKitError).code, name).toBe('invalid_credentials');
    }
    // Control: the counter does see two operations (a register hashes, then a login verifies).
    const two = await argon2OperationsOf(one, async () => {
      await one.register({ email: 'two@example.com', password: GOOD_PASSWORD });
      await one.login({ username: 'two@example.com', password: GOOD_PASSWORD });
    });
    expect(two.ops).toBe(2);
  });

  it('a missing or empty username or password is invalid_request, before any lookup or hashing', async () => {
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const inputs: unknown[] = [
      { username: '', password: GOOD_PASSWORD },
      { password: GOOD_PASSWORD },
      { username: null, password: GOOD_PASSWORD },
      { username: 'ada@example.com', password: '' },
      { username: 'ada@example.com' },
      { username: 'ada@example.com', password: undefined },
      {},
      undefined,
      null,
    ];
    for (const input of inputs) {
      const attempt = auth.login(input as never);
      expect(auth.passwords.inFlight + auth.passwords.queued).toBe(0);
      const err = await expectAuthKitError(attempt, 'invalid_request');
      expect(err.message).not.toContain(GOOD_PASSWORD);
    }
  });

  it('a login against an older-parameter hash succeeds and stores a hash with the current parameters (S3)', async () => {
    const legacy = [
      ['stronger but different (m=47104,t=1)', await createPasswordHasher({ memoryCost: 47104, timeCost: 1 }).hash(GOOD_PASSWORD)],
      // Weaker legacy parameters, as another tool would have stored them (@node-rs/argon2 defaults).
      ['weaker legacy (m=4096,t=3)', await rawArgon2Hash(GOOD_PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 3, parallelism: 1 })],
    ] as const;
    for (const [label, oldHash] of legacy) {
      const email = `legacy${label.length}@example.com`;
      const user = await auth.register({ email, password: GOOD_PASSWORD });
      await t.db.updateTable('auth_users').set({ hashed_password: oldHash }).where('id', '=', user.id).execute();
      const read = async () =>
        (await t.db.selectFrom('auth_users').select(['hashed_password', 'token_version']).where('id', '=', user.id).executeTakeFirstOrThrow());

      // A wrong password changes nothing.
      await expectAuthKitError(auth.login({ username: email, password: 'not-the-password-1' }), 'invalid_credentials');
      expect((await read()).hashed_password, label).toBe(oldHash);

      const first = await auth.login({ username: email, password: GOOD_PASSWORD });
      const after = await read();
      expect(after.hashed_password, label).toMatch(CURRENT_PHC);
      expect(after.hashed_password).not.toBe(oldHash);
      expect(auth.passwords.needsRehash(after.hashed_password)).toBe(false);
      expect(Number(after.token_version)).toBe(0);
      // The upgrade is not a password change: the token just issued stays valid, and login still works.
      expect((await auth.authenticate(first.accessToken)).id).toBe(user.id);
      await auth.login({ username: email, password: GOOD_PASSWORD });
      expect((await read()).hashed_password).toBe(after.hashed_password);
    }
  });

  it('authenticate rejects a deleted user, a deactivated user, and a token older than a password change (S15)', async () => {
    const ada = await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const bob = await auth.register({ email: 'bob@example.com', password: GOOD_PASSWORD });
    const cat = await auth.register({ email: 'cat@example.com', password: GOOD_PASSWORD });
    const [ta, tb, tc] = await Promise.all(
      ['ada', 'bob', 'cat'].map((n) => auth.login({ username: `${n}@example.com`, password: GOOD_PASSWORD })),
    );
    for (const [tok, user] of [[ta, ada], [tb, bob], [tc, cat]] as const) {
      expect((await auth.authenticate(tok.accessToken)).id).toBe(user.id);
    }

    await t.db.deleteFrom('auth_users').where('id', '=', ada.id).execute();
    await expectAuthKitError(auth.authenticate(ta.accessToken), 'invalid_token', 'revoked');

    await auth.users.deactivateUser(bob.id);
    await expectAuthKitError(auth.authenticate(tb.accessToken), 'invalid_token', 'revoked');

    clock.advance(1000);
    const NEW = 'brand-new-passphrase-9';
    await auth.users.updateUser(cat.id, { password: NEW });
    await expectAuthKitError(auth.authenticate(tc.accessToken), 'invalid_token', 'revoked');
    const fresh = await auth.login({ username: 'cat@example.com', password: NEW });
    const me: User = await auth.authenticate(fresh.accessToken);
    expect(me.id).toBe(cat.id);

    // Other reasons pass through from the token service.
    await expectAuthKitError(auth.authenticate('garbage'), 'invalid_token', 'malformed');
    await expectAuthKitError(auth.authenticate(''), 'invalid_token', 'missing');
    clock.advance(1800_000);
    await expectAuthKitError(auth.authenticate(fresh.accessToken), 'invalid_token', 'expired');
  });

  it('a token signed with another instance’s secret is refused', async () => {
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const other = createAuth({ db: t.db, settings: settings(), clock: clock.now });
    const { accessToken } = await other.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'signature');
  });
});

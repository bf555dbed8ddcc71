/**
 * The user service on every dialect (SQLite memory, SQLite file, PostgreSQL): every method, the
 * duplicate-email race (S20), the literal prefix search (S21) and its use of the email index.
 */
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  AuthKitError,
  createAuth,
  createPasswordHasher,
  createUserService,
  isAuthKitError,
  migrate,
  type User,
  type UserService,
} from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';

const USER_KEYS = ['createdAt', 'email', 'fullName', 'id', 'isActive', 'updatedAt'];
// One hasher for the file: real argon2id at the OWASP defaults, four hashes at a time.
const hasher = createPasswordHasher({ maxConcurrent: 4 });

function expectUserShape(user: User): void {
  expect(Object.keys(user).sort()).toEqual(USER_KEYS);
  expect(typeof user.id).toBe('number');
  expect(Number.isSafeInteger(user.id)).toBe(true);
  expect(typeof user.isActive).toBe('boolean');
  expect(user.createdAt).toBeInstanceOf(Date);
  expect(Number.isNaN(user.createdAt.getTime())).toBe(false);
  if (user.updatedAt !== null) expect(user.updatedAt).toBeInstanceOf(Date);
  expect(JSON.stringify(user)).not.toContain('$argon2');
}

/**
 * A second handle on the same database with Kysely's `log` option, so a test can EXPLAIN the
 * exact SQL the service compiled (a plugin would not see it: the kit drops the app's plugins).
 */
function loggedHandle(t: TestDatabase): { db: Kysely<any>; queries: CompiledQuery[] } {
  const queries: CompiledQuery[] = [];
  const log = (event: LogEvent) => {
    if (event.level === 'query') queries.push(event.query);
  };
  const db =
    t.name === 'postgres'
      ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 2 }) }), log })
      : new Kysely<any>({
          dialect: new SqliteDialect({ database: new Database(t.name === 'sqlite-file' ? t.url.slice('sqlite:///'.length) : ':memory:') }),
          log,
        });
  return { db, queries };
}

/** Inserts rows straight into auth_users (no hashing): for emails the public schema would refuse, and for volume. */
async function insertRaw(db: Kysely<any>, emails: readonly string[]): Promise<void> {
  const created = new Date('2029-06-01T00:00:00.000Z').toISOString();
  for (let i = 0; i < emails.length; i += 1000) {
    await db
      .insertInto('auth_users')
      .values(emails.slice(i, i + 1000).map((email) => ({ email, hashed_password: 'not-a-hash', is_active: 1, created_at: created })))
      .execute();
  }
}

describeEachDialect('UserService', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let users: UserService;

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    users = createUserService(t.db, { passwords: hasher, clock: clock.now });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('createUser normalises the email, stores fullName, defaults isActive, and returns a User without the hash', async () => {
    const ada = await users.createUser({ email: '  Ada.Lovelace@Example.COM ', password: GOOD_PASSWORD, fullName: 'Ada Lovelace' });
    expectUserShape(ada);
    expect(ada).toMatchObject({ email: 'ada.lovelace@example.com', fullName: 'Ada Lovelace', isActive: true, updatedAt: null });
    expect(ada.createdAt.toISOString()).toBe('2030-01-01T00:00:00.000Z');

    const bob = await users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD, isActive: false });
    expectUserShape(bob);
    expect(bob).toMatchObject({ email: 'bob@example.com', fullName: null, isActive: false });
    expect(bob.id).not.toBe(ada.id);

    const row = await t.db.selectFrom('auth_users').selectAll().where('id', '=', ada.id).executeTakeFirstOrThrow();
    expect(row.email).toBe('ada.lovelace@example.com');
    expect(row.hashed_password).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(row.hashed_password, GOOD_PASSWORD)).toBe(true);
  });

  it('createUser rejects invalid input with validation_failed naming the field', async () => {
    const badEmail = await expectAuthKitError(users.createUser({ email: 'not-an-email', password: GOOD_PASSWORD }), 'validation_failed');
    expect(badEmail.issues.map((i) => i.path)).toEqual(['email']);
    const badActive = await expectAuthKitError(
      users.createUser({ email: 'x@example.com', password: GOOD_PASSWORD, isActive: 'yes' as unknown as boolean }),
      'validation_failed',
    );
    expect(badActive.issues.map((i) => i.path)).toEqual(['isActive']);
    const longName = await expectAuthKitError(
      users.createUser({ email: 'x@example.com', password: GOOD_PASSWORD, fullName: 'n'.repeat(201) }),
      'validation_failed',
    );
    expect(longName.issues.map((i) => i.path)).toEqual(['fullName']);
    expect(await users.countUsers()).toBe(0);
  });

  it('getUserByEmail is case-insensitive and ignores padding; unknown → null', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    for (const variant of ['ada@example.com', 'ADA@EXAMPLE.COM', '  Ada@Example.Com\t']) {
      const found = await users.getUserByEmail(variant);
      expect(found).toEqual(ada);
      expectUserShape(found!);
    }
    expect(await users.getUserByEmail('ada@example.org')).toBeNull();
    expect(await users.getUserByEmail('')).toBeNull();
  });

  it('getUserById finds the user; a missing or non-integer id → null', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const found = await users.getUserById(ada.id);
    expect(found).toEqual(ada);
    expectUserShape(found!);
    expect(await users.getUserById(ada.id + 1000)).toBeNull();
    expect(await users.getUserById(1.5)).toBeNull();
    expect(await users.getUserById(Number.NaN)).toBeNull();
  });

  it('updateUser changes each allowed key and sets updatedAt', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD, fullName: 'Ada' });
    clock.set('2030-01-02T03:04:05.678Z');
    const renamed = await users.updateUser(ada.id, { fullName: '  Ada Lovelace ' });
    expectUserShape(renamed!);
    expect(renamed).toMatchObject({ id: ada.id, email: 'ada@example.com', fullName: 'Ada Lovelace', isActive: true });
    expect(renamed!.createdAt).toEqual(ada.createdAt);
    expect(renamed!.updatedAt!.toISOString()).toBe('2030-01-02T03:04:05.678Z');

    clock.advance(1000);
    const moved = await users.updateUser(ada.id, { email: ' Countess@Example.COM ' });
    expect(moved!.email).toBe('countess@example.com');
    expect(moved!.updatedAt!.toISOString()).toBe('2030-01-02T03:04:06.678Z');
    expect(await users.getUserByEmail('ada@example.com')).toBeNull();
    expect((await users.getUserByEmail('countess@example.com'))!.id).toBe(ada.id);

    const cleared = await users.updateUser(ada.id, { fullName: null });
    expect(cleared!.fullName).toBeNull();
    const inactive = await users.updateUser(ada.id, { isActive: false });
    expect(inactive!.isActive).toBe(false);
    const active = await users.updateUser(ada.id, { isActive: true });
    expect(active!.isActive).toBe(true);
    expect(await users.getUserById(ada.id)).toEqual(active);
  });

  it('updateUser rejects unknown keys (role, hashedPassword, id, createdAt) naming the key, and changes nothing', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const before = await t.db.selectFrom('auth_users').selectAll().where('id', '=', ada.id).executeTakeFirstOrThrow();
    for (const key of ['role', 'hashedPassword', 'hashed_password', 'id', 'createdAt', 'tokenVersion']) {
      const err = await expectAuthKitError(
        users.updateUser(ada.id, { fullName: 'Mallory', [key]: 'x' } as never),
        'validation_failed',
      );
      expect(err.issues.map((i) => i.path)).toContain(key);
      expect(err.message).toContain(key);
    }
    const after = await t.db.selectFrom('auth_users').selectAll().where('id', '=', ada.id).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
  });

  it('updateUser validates values: bad email, non-boolean isActive, weak password', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    expect((await expectAuthKitError(users.updateUser(ada.id, { email: 'nope' }), 'validation_failed')).issues[0].path).toBe('email');
    expect(
      (await expectAuthKitError(users.updateUser(ada.id, { isActive: 0 as unknown as boolean }), 'validation_failed')).issues[0].path,
    ).toBe('isActive');
    expect((await expectAuthKitError(users.updateUser(ada.id, { password: 'short' }), 'validation_failed')).issues[0].path).toBe(
      'password',
    );
    expect(await users.getUserById(ada.id)).toEqual(ada);
  });

  it('updateUser to an email that exists → email_already_registered; missing id → null; bad id → validation_failed', async () => {
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    await users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
    const err = await expectAuthKitError(users.updateUser(ada.id, { email: ' BOB@example.com' }), 'email_already_registered');
    expect(err.message).toBe('Email already registered');
    expect((await users.getUserById(ada.id))!.email).toBe('ada@example.com');
    expect(await users.updateUser(ada.id + 1000, { fullName: 'Nobody' })).toBeNull();
    await expectAuthKitError(users.updateUser(1.5, { fullName: 'x' }), 'validation_failed');
  });

  it('updateUser({ password }) re-hashes and cuts off older access tokens (S15)', async () => {
    const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 2 }, clock: clock.now });
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const oldHash = (await t.db.selectFrom('auth_users').select('hashed_password').where('id', '=', ada.id).executeTakeFirstOrThrow())
      .hashed_password;
    const { accessToken: before } = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    expect((await auth.authenticate(before)).id).toBe(ada.id);

    const NEW = 'a-different-passphrase-42';
    clock.advance(60_000);
    const updated = await users.updateUser(ada.id, { password: NEW });
    expectUserShape(updated!);
    expect(updated!.updatedAt!.getTime()).toBe(clock.now().getTime());
    const newHash = (await t.db.selectFrom('auth_users').select('hashed_password').where('id', '=', ada.id).executeTakeFirstOrThrow())
      .hashed_password;
    expect(newHash).not.toBe(oldHash);
    expect(newHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(newHash, NEW)).toBe(true);
    expect(await hasher.verify(newHash, GOOD_PASSWORD)).toBe(false);

    await expectAuthKitError(auth.authenticate(before), 'invalid_token', 'revoked');
    await expectAuthKitError(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }), 'invalid_credentials');
    const { accessToken: after } = await auth.login({ username: 'ada@example.com', password: NEW });
    expect((await auth.authenticate(after)).id).toBe(ada.id);
  });

  it('deactivateUser: login fails, existing tokens stop working, reactivation does not revive them; missing → null', async () => {
    const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 2 }, clock: clock.now });
    const ada = await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const { accessToken } = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    expect((await auth.authenticate(accessToken)).id).toBe(ada.id);

    clock.advance(5000);
    const off = await users.deactivateUser(ada.id);
    expectUserShape(off!);
    expect(off).toMatchObject({ id: ada.id, isActive: false });
    expect(off!.updatedAt!.getTime()).toBe(clock.now().getTime());
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'revoked');
    await expectAuthKitError(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }), 'invalid_credentials');

    await users.updateUser(ada.id, { isActive: true });
    await expectAuthKitError(auth.authenticate(accessToken), 'invalid_token', 'revoked');
    const fresh = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    expect((await auth.authenticate(fresh.accessToken)).id).toBe(ada.id);

    expect(await users.deactivateUser(ada.id + 1000)).toBeNull();
  });

  it('listUsers: newest first, id breaks ties, keyset pages cover every user exactly once', async () => {
    // Groups created at one instant each, so created_at ties are common.
    const groups = [['a1'], ['b1', 'b2', 'b3'], ['c1'], ['d1', 'd2', 'd3', 'd4'], ['e1']];
    const created: User[] = [];
    for (const [i, group] of groups.entries()) {
      clock.set(new Date(Date.UTC(2030, 0, 1, 0, 0, i)));
      for (const name of group) created.push(await users.createUser({ email: `${name}@example.com`, password: GOOD_PASSWORD }));
    }
    // Rewrite some tied rows, so that (on PostgreSQL) their physical order no longer follows the id.
    for (const u of created.filter((x) => x.email.startsWith('b') || x.email === 'd1@example.com')) {
      await users.updateUser(u.id, { fullName: 'moved' });
    }
    const expected = [...created].sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || y.id - x.id).map((u) => u.id);
    // The tie-break matters: within a group the later id comes first.
    expect(expected.slice(1, 5)).toEqual(created.filter((u) => u.email.startsWith('d')).map((u) => u.id).reverse());

    const all = await users.listUsers();
    expect(all.users.map((u) => u.id)).toEqual(expected);
    expect(all.nextCursor).toBeNull();
    all.users.forEach(expectUserShape);

    for (const limit of [1, 2, 3, 5, 10]) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<UserService['listUsers']>> = await users.listUsers({ limit, cursor });
        expect(page.users.length).toBeLessThanOrEqual(limit);
        expect(page.users.length).toBeGreaterThan(0);
        seen.push(...page.users.map((u) => u.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    }
  });

  it('listUsers: a user created between pages does not shift the next page', async () => {
    for (const i of [1, 2, 3, 4]) {
      clock.set(new Date(Date.UTC(2030, 0, 1, 0, 0, i % 2)));
      await users.createUser({ email: `u${i}@example.com`, password: GOOD_PASSWORD });
    }
    const first = await users.listUsers({ limit: 2 });
    clock.set('2031-01-01T00:00:00.000Z');
    const newest = await users.createUser({ email: 'newest@example.com', password: GOOD_PASSWORD });
    const second = await users.listUsers({ limit: 2, cursor: first.nextCursor });
    const ids = [...first.users, ...second.users].map((u) => u.id);
    expect(new Set(ids).size).toBe(4);
    expect(ids).not.toContain(newest.id);
    expect(second.nextCursor).toBeNull();
    expect((await users.listUsers({ limit: 1 })).users[0].id).toBe(newest.id);
  });

  it('listUsers({ activeOnly }) pages through active users only', async () => {
    const made: User[] = [];
    for (const i of [0, 1, 2, 3, 4, 5]) {
      clock.set(new Date(Date.UTC(2030, 0, 1, 0, 0, Math.floor(i / 2))));
      made.push(await users.createUser({ email: `u${i}@example.com`, password: GOOD_PASSWORD, isActive: i % 3 !== 0 }));
    }
    const expected = made
      .filter((u) => u.isActive)
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || y.id - x.id)
      .map((u) => u.id);
    expect(expected.length).toBe(4);
    const p1 = await users.listUsers({ activeOnly: true, limit: 3 });
    const p2 = await users.listUsers({ activeOnly: true, limit: 3, cursor: p1.nextCursor });
    expect([...p1.users, ...p2.users].map((u) => u.id)).toEqual(expected);
    expect(p2.nextCursor).toBeNull();
    expect([...p1.users, ...p2.users].every((u) => u.isActive)).toBe(true);
    expect((await users.listUsers({ activeOnly: false })).users.length).toBe(6);
  });

  it('listUsers rejects a damaged cursor and a limit outside 1..1000 with validation_failed', async () => {
    await users.createUser({ email: 'u@example.com', password: GOOD_PASSWORD });
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    for (const cursor of [
      'not-a-cursor',
      b64('{"a":1}'),
      b64('["not a date", 1]'),
      b64('["2030-01-01T00:00:00.000Z", "1"]'),
      b64('["2030-01-01T00:00:00.000Z", 1.5]'),
      b64('[]'),
    ]) {
      const err = await expectAuthKitError(users.listUsers({ cursor }), 'validation_failed');
      expect(err.issues.map((i) => i.path)).toEqual(['cursor']);
    }
    for (const limit of [0, -1, 1001, 2.5, Number.NaN, '10' as unknown as number]) {
      const err = await expectAuthKitError(users.listUsers({ limit }), 'validation_failed');
      expect(err.issues.map((i) => i.path)).toEqual(['limit']);
    }
    expect((await users.listUsers({ limit: 1 })).users.length).toBe(1);
    expect((await users.listUsers({ limit: 1000 })).users.length).toBe(1);
  });

  it('countUsers counts all users, or active ones only', async () => {
    expect(await users.countUsers()).toBe(0);
    await Promise.all([
      users.createUser({ email: 'a@example.com', password: GOOD_PASSWORD }),
      users.createUser({ email: 'b@example.com', password: GOOD_PASSWORD, isActive: false }),
      users.createUser({ email: 'c@example.com', password: GOOD_PASSWORD }),
    ]);
    expect(await users.countUsers()).toBe(3);
    expect(await users.countUsers({ activeOnly: true })).toBe(2);
    expect(await users.countUsers({ activeOnly: false })).toBe(3);
    const c = (await users.getUserByEmail('c@example.com'))!;
    await users.deactivateUser(c.id);
    expect(await users.countUsers({ activeOnly: true })).toBe(1);
    expect(typeof (await users.countUsers())).toBe('number');
  });

  it('20 concurrent createUser with one email (varying case) → one user, 19 email_already_registered (S20)', async () => {
    const variants = ['race@example.com', 'RACE@EXAMPLE.COM', ' Race@Example.com ', 'rAcE@eXaMpLe.CoM'];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => users.createUser({ email: variants[i % variants.length], password: GOOD_PASSWORD })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok.length).toBe(1);
    expect(failed.length).toBe(19);
    for (const { reason } of failed) {
      expect(reason).toBeInstanceOf(AuthKitError);
      expect(isAuthKitError(reason, 'email_already_registered')).toBe(true);
      expect((reason as AuthKitError).message).toBe('Email already registered');
    }
    expect(await users.countUsers()).toBe(1);
    const rows = await t.db.selectFrom('auth_users').select(['id', 'email']).execute();
    expect(rows.map((r) => r.email)).toEqual(['race@example.com']);
    expect(Number(rows[0].id)).toBe((ok[0] as PromiseFulfilledResult<User>).value.id);
  });

  it('createUser with an existing email (other case) → email_already_registered, never a driver error', async () => {
    await users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const err = await expectAuthKitError(users.createUser({ email: 'ADA@example.com', password: GOOD_PASSWORD }), 'email_already_registered');
    expect(err.message).not.toMatch(/unique|constraint|duplicate key|SQLITE/i);
    expect(err.cause).toBeDefined();
  });

  it('findExistingEmailsWithPrefix matches <prefix><anything>@<domain> only; % _ \\ are literal (S21)', async () => {
    await insertRaw(t.db, [
      'test@example.com',
      'test1@example.com',
      'test22@example.com',
      'tester@example.com',
      'test1@other.com',
      'test1@sub.example.com',
      'test1@example.com.evil.io',
      'atest1@example.com',
      'tast1@example.com',
      't_st9@example.com',
      'u1@ex_ample.com',
      'u2@exxample.com',
    ]);
    const find = (p: string, d: string) => users.findExistingEmailsWithPrefix(p, d);
    expect(await find('test', 'example.com')).toEqual(['test1@example.com', 'test22@example.com', 'test@example.com', 'tester@example.com']);
    expect(await find('TEST', 'Example.COM')).toEqual(await find('test', 'example.com'));
    expect(await find('test1', 'example.com')).toEqual(['test1@example.com']);
    expect(await find('test1', 'other.com')).toEqual(['test1@other.com']);
    expect(await find('nobody', 'example.com')).toEqual([]);

    // `_` is literal: t_st matches only the email that really has an underscore.
    expect(await find('t_st', 'example.com')).toEqual(['t_st9@example.com']);
    expect(await find('t_s', 'example.com')).toEqual(['t_st9@example.com']);
    expect(await find('u', 'ex_ample.com')).toEqual(['u1@ex_ample.com']);
    expect(await find('u', 'exxample.com')).toEqual(['u2@exxample.com']);
    // `%` is literal, in the prefix and in the domain.
    expect(await find('%', 'example.com')).toEqual([]);
    expect(await find('te%', 'example.com')).toEqual([]);
    expect(await find('test', '%')).toEqual([]);
    expect(await find('test', 'example%')).toEqual([]);
    expect(await find('test', '%.com')).toEqual([]);
    expect(await find('test', 'example.co_')).toEqual([]);
    expect(await find('', '%')).toEqual([]);
    // `\` is literal too, and cannot escape our own wildcard.
    expect(await find('test\\', 'example.com')).toEqual([]);
    expect(await find('test', 'example.com\\')).toEqual([]);

    await insertRaw(t.db, ['%weird@example.com', '_under@example.com', 'back\\slash1@example.com', 'te%st@example.com']);
    expect(await find('%', 'example.com')).toEqual(['%weird@example.com']);
    expect(await find('_', 'example.com')).toEqual(['_under@example.com']);
    expect(await find('back\\', 'example.com')).toEqual(['back\\slash1@example.com']);
    expect(await find('te%', 'example.com')).toEqual(['te%st@example.com']);
    expect(await find('', 'example.com')).toHaveLength(
      (await t.db.selectFrom('auth_users').select('email').execute()).filter((r) => r.email.endsWith('@example.com')).length,
    );
    await expectAuthKitError(users.findExistingEmailsWithPrefix(1 as unknown as string, 'example.com'), 'validation_failed');
  });

  it("findExistingEmailsWithPrefix's own query is a range scan of the email index (EXPLAIN)", async () => {
    const { db, queries } = loggedHandle(t);
    try {
      if (t.name === 'sqlite-memory') await migrate(db);
      await insertRaw(db, Array.from({ length: 5000 }, (_, i) => `bulk${String(i).padStart(5, '0')}@example.com`));
      await insertRaw(db, ['test1@example.com', 'test2@example.com', 'tester@example.com']);
      await db.executeQuery(CompiledQuery.raw(t.dialect === 'postgres' ? 'analyze auth_users' : 'analyze'));

      const service = createUserService(db, { passwords: hasher, clock: clock.now });
      queries.length = 0;
      expect(await service.findExistingEmailsWithPrefix('test', 'example.com')).toEqual([
        'test1@example.com',
        'test2@example.com',
        'tester@example.com',
      ]);
      expect(queries.length).toBe(1);
      const compiled = queries[0];
      expect(compiled.sql).toMatch(/like/i);

      if (t.dialect === 'sqlite') {
        const plan = await db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
        );
        const details = plan.rows.map((r) => r.detail).join('\n');
        expect(details).toMatch(/SEARCH auth_users USING (COVERING )?INDEX auth_users_email_key \(email>\? AND email<\?\)/);
        expect(details).not.toMatch(/SCAN auth_users(?! USING)/);
      } else {
        const plan = await db.executeQuery<{ 'QUERY PLAN': string }>(
          CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]),
        );
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(text).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) auth_users_email_key/);
        expect(text).toMatch(/Index Cond: \(\(email >= /);
        expect(text).not.toMatch(/Seq Scan/);
      }
    } finally {
      await db.destroy();
    }
  });

  it('the unknown-key error of updateUser is an AuthKitError, not a driver error, even for an unknown id', async () => {
    const err = await caught(users.updateUser(12345, { role: 'admin' } as never));
    expect(isAuthKitError(err, 'validation_failed')).toBe(true);
  });
});

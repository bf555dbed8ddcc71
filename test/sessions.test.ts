/**
 * Sessions on every dialect (S17): refresh-token rotation, reuse detection revoking the whole
 * family, the concurrent-refresh race, absolute expiry with an injected clock, logout, logout-all,
 * listing and revocation, and deactivation or a password change cutting sessions off.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthKitError,
  createAuth,
  migrate,
  type Auth,
  type TokenResponse,
  type User,
} from 'auth-kit';
import { DIALECTS, REQUIRE_PG, describeEachDialect, postgresProblem, type TestDatabase } from './support/databases.js';
import { ROOT, ensureFreshDist } from './support/dist.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, fakeClock, newSecret, type FakeClock } from './support/helpers.js';

const DAY = 24 * 60 * 60 * 1000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * PostgreSQL: opens `n` pooled connections up front (n overlapping queries), so that n concurrent
 * requests really overlap instead of queueing behind connection set-up.
 */
async function warmPool(t: TestDatabase, n: number): Promise<void> {
  if (t.dialect !== 'postgres') return;
  await Promise.all(Array.from({ length: n }, () => sql`select pg_sleep(0.05)`.execute(t.db)));
}

describeEachDialect('sessions', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let ada: User;

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock();
    auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() }, clock: clock.now });
    ada = await auth.users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const loginAda = (context?: { clientAddress?: string; userAgent?: string }) =>
    auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }, context);

  async function sessionRows(): Promise<Record<string, unknown>[]> {
    return t.db.selectFrom('auth_sessions').selectAll().execute();
  }

  async function activeRows(familyId?: string): Promise<number> {
    let q = t.db
      .selectFrom('auth_sessions')
      .select('id')
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', clock.now().toISOString());
    if (familyId) q = q.where('family_id', '=', familyId);
    return (await q.execute()).length;
  }

  it('login returns an access token bound to a new session and a 256-bit opaque refresh token', async () => {
    const first = await loginAda();
    expect(Object.keys(first).sort()).toEqual(
      ['accessToken', 'expiresIn', 'refreshExpiresIn', 'refreshToken', 'sessionId', 'tokenType'].sort(),
    );
    expect(first.tokenType).toBe('bearer');
    expect(first.refreshExpiresIn).toBe(14 * 24 * 60 * 60);
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.refreshToken, 'base64url').length).toBe(32); // 256 bits
    const claims = await auth.tokens.verifyAccessToken(first.accessToken);
    expect(claims.sid).toBe(first.sessionId);
    const { user, claims: viaAuth } = await auth.authenticateWithClaims(first.accessToken);
    expect(user.id).toBe(ada.id);
    expect(viaAuth.sid).toBe(first.sessionId);

    const second = await loginAda();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(await activeRows()).toBe(2);
  });

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const issued: string[] = [];
    const a = await loginAda();
    issued.push(a.refreshToken);
    const b = await auth.refresh(a.refreshToken);
    issued.push(b.refreshToken);
    const c = await auth.refresh(b.refreshToken);
    issued.push(c.refreshToken);
    const rows = await sessionRows();
    expect(rows).toHaveLength(3);
    const dump = JSON.stringify(rows);
    for (const token of issued) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(Buffer.from(token, 'base64url').toString('hex'));
    }
    expect(rows.map((r) => r.token_hash).sort()).toEqual(issued.map(sha256).sort());
  });

  it('rotates: a refresh returns new tokens for the same session and spends the old refresh token', async () => {
    const first = await loginAda({ clientAddress: '203.0.113.5', userAgent: 'First/1.0' });
    clock.advance(60_000);
    const second = await auth.refresh(first.refreshToken, { clientAddress: '198.51.100.7', userAgent: 'Second/2.0' });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.refreshExpiresIn).toBe(first.refreshExpiresIn - 60);
    expect((await auth.authenticate(second.accessToken)).id).toBe(ada.id);
    expect((await auth.tokens.verifyAccessToken(second.accessToken)).sid).toBe(first.sessionId);

    const rows = await sessionRows();
    expect(rows).toHaveLength(2);
    const spent = rows.find((r) => r.used_at !== null);
    const live = rows.find((r) => r.used_at === null);
    expect(spent?.token_hash).toBe(sha256(first.refreshToken));
    expect(live?.token_hash).toBe(sha256(second.refreshToken));
    expect(spent!.used_at).not.toBeNull();
    expect(live!.used_at).toBeNull();
    expect(live!.family_id).toBe(spent!.family_id);
    // The absolute expiry and the session start are copied, never extended.
    expect(new Date(live!.expires_at as string).getTime()).toBe(new Date(spent!.expires_at as string).getTime());
    expect(new Date(live!.created_at as string).getTime()).toBe(new Date(spent!.created_at as string).getTime());
    expect(await activeRows(first.sessionId)).toBe(1);

    const [listed] = await auth.listSessions(ada.id);
    expect(listed).toMatchObject({ id: first.sessionId, clientAddress: '198.51.100.7', userAgent: 'Second/2.0' });
    expect(listed!.lastUsedAt?.getTime()).toBe(clock.now().getTime());

    // A chain of rotations keeps working while each token is used once.
    let current: TokenResponse = second;
    for (let i = 0; i < 3; i++) current = await auth.refresh(current.refreshToken);
    expect(current.sessionId).toBe(first.sessionId);
    expect(await activeRows()).toBe(1);
  });

  it('reuse of a spent refresh token revokes the whole family; every member, the newest included, then fails', async () => {
    const r1 = await loginAda();
    const r2 = await auth.refresh(r1.refreshToken);
    const r3 = await auth.refresh(r2.refreshToken);
    const other = await loginAda(); // another session of the same user: untouched

    await expectAuthKitError(auth.refresh(r1.refreshToken), 'invalid_grant');
    for (const token of [r3.refreshToken, r2.refreshToken, r1.refreshToken]) {
      await expectAuthKitError(auth.refresh(token), 'invalid_grant');
    }
    const rows = await t.db.selectFrom('auth_sessions').selectAll().where('family_id', '=', r1.sessionId).execute();
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.revoked_at).not.toBeNull();

    expect((await auth.listSessions(ada.id)).map((s) => s.id)).toEqual([other.sessionId]);
    expect((await auth.refresh(other.refreshToken)).sessionId).toBe(other.sessionId);
  });

  it('ten concurrent refreshes with one token: exactly one succeeds, nine get invalid_grant', async () => {
    const first = await loginAda();
    await warmPool(t, 10);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => auth.refresh(first.refreshToken)));
    const ok = results.filter((r): r is PromiseFulfilledResult<TokenResponse> => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(9);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(AuthKitError);
      expect((f.reason as AuthKitError).code).toBe('invalid_grant');
    }
    // Exactly one rotation happened: one spent row, one successor.
    const rows = await sessionRows();
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.used_at !== null)).toHaveLength(1);
    // The losers presented a spent token, which is indistinguishable from theft: the family is revoked,
    // so the winner's new refresh token is dead too (clients must serialise their refreshes).
    await expectAuthKitError(auth.refresh(ok[0]!.value.refreshToken), 'invalid_grant');
    expect(await activeRows()).toBe(0);
  });

  it('has an absolute lifetime that rotation does not extend', async () => {
    const start = clock.now().getTime();
    let current = await loginAda();
    for (let day = 1; day <= 13; day++) {
      clock.set(new Date(start + day * DAY));
      current = await auth.refresh(current.refreshToken);
      expect(current.refreshExpiresIn).toBe((14 - day) * 24 * 60 * 60);
    }
    clock.set(new Date(start + 14 * DAY - 1000));
    current = await auth.refresh(current.refreshToken);
    expect(current.refreshExpiresIn).toBe(1);
    const listed = await auth.listSessions(ada.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.expiresAt.getTime()).toBe(start + 14 * DAY);

    clock.set(new Date(start + 14 * DAY));
    await expectAuthKitError(auth.refresh(current.refreshToken), 'invalid_grant');
    expect(await auth.listSessions(ada.id)).toEqual([]);
  });

  it('honours refreshTokenExpireDays', async () => {
    const short = createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret(), refreshTokenExpireDays: 1 },
      clock: clock.now,
    });
    const first = await short.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    expect(first.refreshExpiresIn).toBe(24 * 60 * 60);
    clock.advance(DAY);
    await expectAuthKitError(short.refresh(first.refreshToken), 'invalid_grant');
  });

  it('refuses unknown, malformed and non-string refresh tokens without a database error', async () => {
    await expectAuthKitError(auth.refresh(Buffer.alloc(32, 7).toString('base64url')), 'invalid_grant');
    await expectAuthKitError(auth.refresh('not-a-token'), 'invalid_grant');
    await expectAuthKitError(auth.refresh('a'.repeat(10_000)), 'invalid_grant');
    await expectAuthKitError(auth.refresh(''), 'invalid_request');
    await expectAuthKitError(auth.refresh(42 as unknown as string), 'validation_failed');
    await expectAuthKitError(auth.refresh({ token: 'x' } as unknown as string), 'validation_failed');
    const err = await expectAuthKitError(auth.refresh(Buffer.alloc(32, 9).toString('base64url')), 'invalid_grant');
    expect(err.message).not.toContain(Buffer.alloc(32, 9).toString('base64url'));
  });

  it('logout revokes the family and answers the same for a valid, an unknown and a used token', async () => {
    const a = await loginAda();
    const b = await loginAda();
    const a2 = await auth.refresh(a.refreshToken);

    const outcomes = [
      await auth.logout(a2.refreshToken),
      await auth.logout(a2.refreshToken), // again: already revoked
      await auth.logout(a.refreshToken), // a spent member
      await auth.logout(Buffer.alloc(32, 1).toString('base64url')), // unknown
      await auth.logout('garbage'),
    ];
    expect(outcomes).toEqual([undefined, undefined, undefined, undefined, undefined]);
    await expectAuthKitError(auth.refresh(a2.refreshToken), 'invalid_grant');
    expect((await auth.listSessions(ada.id)).map((s) => s.id)).toEqual([b.sessionId]);

    // Logging out with an older member of a family ends it as well.
    const b2 = await auth.refresh(b.refreshToken);
    await auth.logout(b.refreshToken);
    await expectAuthKitError(auth.refresh(b2.refreshToken), 'invalid_grant');
    expect(await auth.listSessions(ada.id)).toEqual([]);

    await expectAuthKitError(auth.logout(7 as unknown as string), 'validation_failed');
    await expectAuthKitError(auth.logout(''), 'invalid_request');
  });

  it('logoutAll ends every session and rejects every access token issued before it', async () => {
    const a = await loginAda();
    const b = await auth.refresh((await loginAda()).refreshToken);
    const bob = await auth.users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
    const bobs = await auth.login({ username: 'bob@example.com', password: GOOD_PASSWORD });

    expect(await auth.logoutAll(ada.id)).toBe(2);
    expect(await auth.listSessions(ada.id)).toEqual([]);
    await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
    await expectAuthKitError(auth.refresh(b.refreshToken), 'invalid_grant');
    await expectAuthKitError(auth.authenticate(a.accessToken), 'invalid_token', 'revoked');
    await expectAuthKitError(auth.authenticate(b.accessToken), 'invalid_token', 'revoked');

    // Another user is untouched.
    expect((await auth.authenticate(bobs.accessToken)).id).toBe(bob.id);
    expect(await auth.listSessions(bob.id)).toHaveLength(1);
    // A new login works as usual.
    const fresh = await loginAda();
    expect((await auth.authenticate(fresh.accessToken)).id).toBe(ada.id);
    expect(await auth.logoutAll(ada.id)).toBe(1);
    expect(await auth.logoutAll(999_999)).toBe(0);
    await expectAuthKitError(auth.logoutAll('1' as unknown as number), 'validation_failed');
  });

  it("listSessions lists the user's active sessions newest first, marks the current one, never another user's", async () => {
    const older = await loginAda({ clientAddress: '203.0.113.5', userAgent: 'Laptop/1.0' });
    clock.advance(1000);
    const newer = await loginAda({ clientAddress: '2001:db8::1', userAgent: 'Phone/2.0' });
    clock.advance(1000);
    const ended = await loginAda();
    await auth.logout(ended.refreshToken);
    await auth.users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
    const bobs = await auth.login({ username: 'bob@example.com', password: GOOD_PASSWORD });

    const list = await auth.listSessions(ada.id, { currentSessionId: older.sessionId });
    expect(list.map((s) => s.id)).toEqual([newer.sessionId, older.sessionId]);
    expect(list.map((s) => s.current)).toEqual([false, true]);
    expect(list[0]).toEqual({
      id: newer.sessionId,
      createdAt: new Date(Date.parse('2030-01-01T00:00:01.000Z')),
      lastUsedAt: null,
      expiresAt: new Date(Date.parse('2030-01-01T00:00:01.000Z') + 14 * DAY),
      clientAddress: '2001:db8::1',
      userAgent: 'Phone/2.0',
      current: false,
    });
    expect(list.map((s) => s.id)).not.toContain(bobs.sessionId);
    // Without a current id nothing is current; a current id of another user matches nothing.
    expect((await auth.listSessions(ada.id)).every((s) => !s.current)).toBe(true);
    expect((await auth.listSessions(ada.id, { currentSessionId: bobs.sessionId })).every((s) => !s.current)).toBe(true);
    // The session id stays the same across rotations.
    await auth.refresh(older.refreshToken);
    expect((await auth.listSessions(ada.id)).map((s) => s.id)).toEqual([newer.sessionId, older.sessionId]);
  });

  it("revokeSession ends one of the user's own sessions; another user's, an unknown or an ended one gives false", async () => {
    const keep = await loginAda();
    const drop = await loginAda();
    await auth.users.createUser({ email: 'bob@example.com', password: GOOD_PASSWORD });
    const bobs = await auth.login({ username: 'bob@example.com', password: GOOD_PASSWORD });
    const bob = (await auth.users.getUserByEmail('bob@example.com'))!;

    expect(await auth.revokeSession(ada.id, bobs.sessionId)).toBe(false);
    expect(await auth.listSessions(bob.id)).toHaveLength(1);
    expect((await auth.refresh(bobs.refreshToken)).sessionId).toBe(bobs.sessionId);

    expect(await auth.revokeSession(ada.id, drop.sessionId)).toBe(true);
    await expectAuthKitError(auth.refresh(drop.refreshToken), 'invalid_grant');
    expect((await auth.listSessions(ada.id)).map((s) => s.id)).toEqual([keep.sessionId]);
    expect(await auth.revokeSession(ada.id, drop.sessionId)).toBe(false); // already ended
    expect(await auth.revokeSession(ada.id, 'no-such-session')).toBe(false);
    expect(await auth.revokeSession(ada.id, '')).toBe(false);
    expect(await auth.revokeSession(ada.id, 'x'.repeat(500))).toBe(false);
    expect((await auth.refresh(keep.refreshToken)).sessionId).toBe(keep.sessionId);

    // An expired session is not "active": false, although its rows exist.
    clock.advance(15 * DAY);
    expect(await auth.revokeSession(ada.id, keep.sessionId)).toBe(false);
    await expectAuthKitError(auth.revokeSession(ada.id, 5 as unknown as string), 'validation_failed');
  });

  it('deactivating a user revokes every session; reactivating does not bring them back', async () => {
    const a = await loginAda();
    const b = await loginAda();
    await auth.users.deactivateUser(ada.id);
    expect(await activeRows()).toBe(0);
    expect(await auth.listSessions(ada.id)).toEqual([]);
    await auth.users.updateUser(ada.id, { isActive: true });
    await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
    await expectAuthKitError(auth.refresh(b.refreshToken), 'invalid_grant');

    const c = await loginAda();
    await auth.users.updateUser(ada.id, { isActive: false, fullName: 'Ada' });
    expect(await auth.listSessions(ada.id)).toEqual([]);
    await expectAuthKitError(auth.refresh(c.refreshToken), 'invalid_grant');
  });

  it('a password set through updateUser revokes every session', async () => {
    const a = await loginAda();
    await auth.users.updateUser(ada.id, { password: 'another-long-passphrase-9' });
    await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
    // Other updates leave sessions alone.
    const b = await auth.login({ username: 'ada@example.com', password: 'another-long-passphrase-9' });
    await auth.users.updateUser(ada.id, { fullName: 'Ada Lovelace' });
    expect((await auth.refresh(b.refreshToken)).sessionId).toBe(b.sessionId);
  });

  it('refuses a refresh whose session predates a token-version change even if its row was not revoked', async () => {
    // The race the per-session version guards: a rotation that slipped past a revocation.
    const a = await loginAda();
    await t.db
      .updateTable('auth_users')
      .set((eb: any) => ({ token_version: eb('token_version', '+', 1) }))
      .where('id', '=', ada.id)
      .execute();
    await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
    expect(await activeRows()).toBe(0);
  });

  it('refuses a refresh for a user deactivated behind the kit (row flag only)', async () => {
    const a = await loginAda();
    await t.db.updateTable('auth_users').set({ is_active: t.dialect === 'postgres' ? false : 0 }).execute();
    await expectAuthKitError(auth.refresh(a.refreshToken), 'invalid_grant');
  });

  it('deleting a user deletes their sessions (foreign key cascade)', async () => {
    await loginAda();
    await t.db.deleteFrom('auth_users').where('id', '=', ada.id).execute();
    expect(await sessionRows()).toEqual([]);
  });

  it('keeps the login behaviour: wrong password is invalid_credentials and starts no session', async () => {
    const err = await caught(auth.login({ username: 'ada@example.com', password: 'wrong-password-123' }));
    expect((err as AuthKitError).code).toBe('invalid_credentials');
    expect(await sessionRows()).toEqual([]);
  });
});

/**
 * A child process running the BUILT package against the same database: it connects, says
 * "ready", waits for a line on stdin, then fires `count` refreshes of one token at once and prints
 * each outcome. Several of them released together race for real on SQLite files (separate
 * connections, SQLite's file locks) and on PostgreSQL.
 */
function refreshingProcess(url: string, secret: string, token: string, count: number) {
  const script = `
    import { sql } from 'kysely';
    import { createAuth, openDatabase } from 'auth-kit';
    const db = openDatabase(process.env.AK_URL);
    const auth = createAuth({ db, settings: { jwtSecretKey: process.env.AK_SECRET } });
    // Open as many connections as requests up front (PostgreSQL), so that the requests overlap.
    const warm = process.env.AK_URL.startsWith('postgres') ? sql\`select pg_sleep(0.05)\` : sql\`select 1\`;
    await Promise.all(Array.from({ length: Number(process.env.AK_COUNT) }, () => warm.execute(db)));
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const settled = await Promise.allSettled(
      Array.from({ length: Number(process.env.AK_COUNT) }, () => auth.refresh(process.env.AK_TOKEN)),
    );
    process.stdout.write(JSON.stringify(settled.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.code ?? String(r.reason)))) + '\\n');
    await db.destroy();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, AK_URL: url, AK_SECRET: secret, AK_TOKEN: token, AK_COUNT: String(count) },
  });
  let out = '';
  let err = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? ''));
      } catch (e) {
        reject(new Error(`refreshing process failed (${String(e)}): ${out} ${err}`));
      }
    });
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

describe('the refresh race across processes', async () => {
  const pgProblem = await postgresProblem();
  const cases = DIALECTS.filter((d) => d.name !== 'sqlite-memory').filter(
    (d) => d.name !== 'postgres' || pgProblem === null || REQUIRE_PG,
  );
  beforeAll(async () => {
    if (cases.length > 0) await ensureFreshDist();
  }, 300_000);

  for (const dialect of cases) {
    it(`[${dialect.name}] 3 processes × 4 refreshes of one token: exactly one succeeds`, async () => {
      const t = await dialect.open();
      try {
        await migrate(t.db);
        const secret = newSecret();
        const auth = createAuth({ db: t.db, settings: { jwtSecretKey: secret } });
        await auth.users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
        const first = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
        const children = [0, 1, 2].map(() => refreshingProcess(t.url, secret, first.refreshToken, 4));
        await Promise.all(children.map((c) => c.ready));
        for (const c of children) c.go();
        const outcomes = (await Promise.all(children.map((c) => c.done))).flat();
        expect(outcomes).toHaveLength(12);
        expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'invalid_grant')).toHaveLength(11);
        const rows = await t.db.selectFrom('auth_sessions').selectAll().execute();
        expect(rows).toHaveLength(2);
        expect(rows.filter((r) => r.used_at !== null)).toHaveLength(1);
      } finally {
        await t.cleanup();
      }
    }, 120_000);
  }
});

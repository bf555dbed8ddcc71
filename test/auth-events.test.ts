/**
 * The event log wired into the flows (S19), on every dialect: each event type is recorded by the
 * flow that causes it — register, login (success, failure, throttled), refresh, reuse, logout,
 * password change, password reset, deactivation and activation — with the user, the normalised
 * email and the client context; no row ever holds a password, a token or a hash of one; the app's
 * `onEvent` hook hears each event after it is stored, and a failing hook is logged, not thrown; a
 * failure to store an event fails the request; `auth.pruneEvents` and `auth.events`.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  AUTH_EVENT_TYPES,
  AuthKitError,
  createAuth,
  createEventRecorder,
  createUserService,
  migrate,
  type Auth,
  type AuthEvent,
  type TokenResponse,
} from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, fakeClock, newSecret, tick, type FakeClock } from './support/helpers.js';

const SECOND = 1000;
const NEW_PASSWORD = 'copper-lantern-58-willow';
const RESET_PASSWORD = 'amber-falcon-92-thistle';
const WRONG_PASSWORD = 'wrong-horse-battery-77';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * From now on every INSERT into `table` fails with `message` (a trigger; reads still work).
 * Resolves to a function that lifts the refusal again.
 */
async function refuseInserts(
  t: TestDatabase,
  table: 'auth_events' | 'auth_sessions',
  message: string,
): Promise<() => Promise<void>> {
  const name = sql.id(`refuse_${table}`);
  if (t.dialect === 'sqlite') {
    await sql`create trigger ${name} before insert on ${sql.table(table)} begin select raise(abort, ${sql.lit(message)}); end`.execute(t.db);
    return async () => void (await sql`drop trigger ${name}`.execute(t.db));
  }
  await sql`create function ${name}() returns trigger language plpgsql as $$ begin raise exception ${sql.lit(message)}; end $$`.execute(t.db);
  await sql`create trigger ${name} before insert on ${sql.table(table)} for each row execute function ${name}()`.execute(t.db);
  return async () => {
    await sql`drop trigger ${name} on ${sql.table(table)}`.execute(t.db);
    await sql`drop function ${name}()`.execute(t.db);
  };
}

/** The fields a test compares: everything but the row id. */
function summary(e: AuthEvent) {
  return {
    type: e.type,
    userId: e.userId,
    email: e.email,
    clientAddress: e.clientAddress,
    userAgent: e.userAgent,
    createdAt: e.createdAt.toISOString(),
  };
}

describeEachDialect('auth events from the flows', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  let auth: Auth;
  let heard: AuthEvent[];
  let logged: { message: string; error: unknown }[];
  let resetTokens: string[];

  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    clock = fakeClock('2030-05-01T08:00:00.000Z');
    heard = [];
    logged = [];
    resetTokens = [];
    auth = createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 2 },
      clock: clock.now,
      onEvent: (e) => {
        heard.push(e);
      },
      eventLogger: (message, error) => logged.push({ message, error }),
      sendPasswordResetEmail: ({ token }) => {
        resetTokens.push(token);
      },
    });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  /** Every stored event, oldest first, straight from the table (not through the kit's reader). */
  async function storedRows(): Promise<Record<string, unknown>[]> {
    return t.db.selectFrom('auth_events').selectAll().orderBy('id').execute();
  }

  async function storedEvents(): Promise<AuthEvent[]> {
    const page = await auth.events.list({ limit: 1000 });
    expect(page.nextCursor).toBeNull();
    return page.events.slice().reverse();
  }

  it('records every event type in the flow that causes it, with user, email and client context', async () => {
    const secrets: string[] = [GOOD_PASSWORD, NEW_PASSWORD, RESET_PASSWORD, WRONG_PASSWORD];
    const collect = (s: TokenResponse) => secrets.push(s.accessToken, s.refreshToken, sha256(s.refreshToken));
    const at = () => clock.now().toISOString();
    const expected: ReturnType<typeof summary>[] = [];
    const expect_ = (type: AuthEvent['type'], userId: number | null, email: string | null, address: string | null, agent: string | null) =>
      expected.push({ type, userId, email, clientAddress: address, userAgent: agent, createdAt: at() });
    const step = () => clock.advance(SECOND);

    // user_registered: the new user's id and normalised email, and the request's context.
    const ada = await auth.register(
      { email: '  Ada@Example.COM ', password: GOOD_PASSWORD, fullName: 'Ada' },
      { clientAddress: '203.0.113.7', userAgent: 'agent/register' },
    );
    expect_('user_registered', ada.id, 'ada@example.com', '203.0.113.7', 'agent/register');
    step();

    // login_failed for an existing account: its user id; for an unknown one: the email only.
    await expectAuthKitError(
      auth.login({ username: 'ADA@example.com', password: WRONG_PASSWORD }, { clientAddress: '2001:DB8:0:0::1', userAgent: 'agent/a' }),
      'invalid_credentials',
    );
    expect_('login_failed', ada.id, 'ada@example.com', '2001:db8::1', 'agent/a');
    step();
    await expectAuthKitError(
      auth.login({ username: 'Nobody@Example.com', password: WRONG_PASSWORD }, { clientAddress: '::ffff:198.51.100.4' }),
      'invalid_credentials',
    );
    expect_('login_failed', null, 'nobody@example.com', '198.51.100.4', null);
    step();

    // login_succeeded, with the context also stored on the session.
    const s1 = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }, { clientAddress: '203.0.113.7', userAgent: 'agent/b' });
    collect(s1);
    expect_('login_succeeded', ada.id, 'ada@example.com', '203.0.113.7', 'agent/b');
    step();

    // token_refreshed, then refresh_reuse_detected when the spent token comes back.
    const s2 = await auth.refresh(s1.refreshToken, { clientAddress: '203.0.113.8', userAgent: 'agent/c' });
    collect(s2);
    expect_('token_refreshed', ada.id, 'ada@example.com', '203.0.113.8', 'agent/c');
    step();
    await expectAuthKitError(auth.refresh(s1.refreshToken, { clientAddress: '192.0.2.66', userAgent: 'agent/thief' }), 'invalid_grant');
    expect_('refresh_reuse_detected', ada.id, 'ada@example.com', '192.0.2.66', 'agent/thief');
    step();

    // logout (of a live session; a dead token records nothing).
    const s3 = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    collect(s3);
    expect_('login_succeeded', ada.id, 'ada@example.com', null, null);
    step();
    await auth.logout(s3.refreshToken, { clientAddress: '203.0.113.9', userAgent: 'agent/d' });
    expect_('logout', ada.id, null, '203.0.113.9', 'agent/d');
    step();
    await auth.logout(s3.refreshToken);
    step();

    // password_changed, with the email (it clears the lockout count).
    const changed = await auth.changePassword(ada.id, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
    secrets.push(changed.accessToken);
    expect_('password_changed', ada.id, 'ada@example.com', null, null);
    step();

    // password_reset_requested: the account's id, the normalised email and the request's context;
    // for an unknown email, the email only. Then password_reset for the reset, with the email.
    await auth.requestPasswordReset(' ADA@example.com', { clientAddress: '203.0.113.10', userAgent: 'agent/r' });
    expect(resetTokens).toHaveLength(1);
    secrets.push(resetTokens[0], sha256(resetTokens[0]));
    expect_('password_reset_requested', ada.id, 'ada@example.com', '203.0.113.10', 'agent/r');
    step();
    await auth.requestPasswordReset('Nobody@example.com', { clientAddress: '192.0.2.77' });
    expect(resetTokens).toHaveLength(1);
    expect_('password_reset_requested', null, 'nobody@example.com', '192.0.2.77', null);
    step();
    await auth.resetPassword(resetTokens[0], RESET_PASSWORD);
    expect_('password_reset', ada.id, 'ada@example.com', null, null);
    step();

    // password_reset_throttled: a request while maxPasswordResetsPerAccount (3) links are out.
    for (let i = 0; i < 3; i++) {
      await auth.requestPasswordReset('ada@example.com');
      expect_('password_reset_requested', ada.id, 'ada@example.com', null, null);
      step();
    }
    await auth.requestPasswordReset('ada@example.com', { clientAddress: '192.0.2.78', userAgent: 'agent/flood' });
    expect(resetTokens).toHaveLength(4);
    for (const token of resetTokens) secrets.push(token, sha256(token));
    expect_('password_reset_throttled', ada.id, 'ada@example.com', '192.0.2.78', 'agent/flood');
    step();

    // user_deactivated / user_activated through createAuth's user service: only real changes.
    await auth.users.updateUser(ada.id, { isActive: false });
    expect_('user_deactivated', ada.id, 'ada@example.com', null, null);
    step();
    await auth.users.deactivateUser(ada.id); // already inactive: nothing to record
    step();
    await auth.users.updateUser(ada.id, { isActive: true });
    expect_('user_activated', ada.id, 'ada@example.com', null, null);
    step();
    await auth.users.updateUser(ada.id, { isActive: true, fullName: 'Ada L.' }); // already active
    step();

    // login_throttled: the 6th attempt after 5 failures, refused before any password check.
    for (let i = 0; i < 5; i++) {
      await expectAuthKitError(auth.login({ username: 'mallory@example.com', password: `guess-number-${i}` }, { clientAddress: '192.0.2.1' }), 'invalid_credentials');
      expect_('login_failed', null, 'mallory@example.com', '192.0.2.1', null);
      secrets.push(`guess-number-${i}`);
    }
    const refused = await expectAuthKitError(
      auth.login({ username: 'Mallory@example.com', password: 'guess-number-5' }, { clientAddress: '192.0.2.1', userAgent: 'agent/e' }),
      'too_many_attempts',
    );
    expect(refused.retryAfterSeconds).toBe(1);
    expect_('login_throttled', null, 'mallory@example.com', '192.0.2.1', 'agent/e');

    const events = await storedEvents();
    expect(events.map(summary)).toEqual(expected);
    // Every type the flows can cause was caused; only the administrator's lockout_cleared is not a flow.
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(AUTH_EVENT_TYPES.filter((type) => type !== 'lockout_cleared')));

    // No password, token, token hash or password hash anywhere in any column of any row.
    const hashes = await t.db.selectFrom('auth_users').select('hashed_password').execute();
    for (const h of hashes) secrets.push(String(h.hashed_password));
    const rows = await storedRows();
    expect(rows).toHaveLength(expected.length);
    const columns = Object.keys(rows[0]).sort();
    expect(columns).toEqual(['client_address', 'client_key', 'created_at', 'email', 'id', 'type', 'user_agent', 'user_id']);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        const text = value instanceof Date ? value.toISOString() : String(value);
        for (const secret of secrets) {
          expect(text.includes(secret), `${column} of a ${String(row.type)} row holds a secret`).toBe(false);
        }
      }
    }

    // The hook heard each event once, as stored, in order.
    expect(heard.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(heard).toEqual(events);
    expect(logged).toEqual([]);
  }, 120_000);

  it('calls onEvent after the event is stored', async () => {
    const seen: { id: number; stored: boolean }[] = [];
    const lookups: Promise<void>[] = [];
    const hooked = createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret() },
      clock: clock.now,
      onEvent: (e) => {
        // Synchronously at call time, on another statement: the row must already be there.
        lookups.push(
          t.db
            .selectFrom('auth_events')
            .select(['id', 'type'])
            .where('id', '=', e.id)
            .executeTakeFirst()
            .then((row) => {
              seen.push({ id: e.id, stored: row !== undefined && row.type === e.type });
            }),
        );
      },
    });
    const ada = await hooked.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    await expectAuthKitError(hooked.login({ username: 'ada@example.com', password: WRONG_PASSWORD }), 'invalid_credentials');
    const s = await hooked.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    await hooked.refresh(s.refreshToken);
    await hooked.users.deactivateUser(ada.id);
    await Promise.all(lookups);
    expect(seen).toHaveLength(5);
    expect(seen.every((s) => s.stored)).toBe(true);
  });

  it('a throwing or rejecting hook is logged without the email or secrets, and the flow goes on', async () => {
    const messages: string[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const throwing = createAuth({
      db: t.db,
      settings: { jwtSecretKey: newSecret() },
      clock: clock.now,
      onEvent: (e) => {
        calls++;
        if (e.type === 'login_succeeded') return Promise.reject(new Error('alerting is down'));
        throw new TypeError('hook bug');
      },
      eventLogger: (message, error) => {
        messages.push(message);
        errors.push(error);
      },
    });
    const ada = await throwing.register({ email: 'ada@example.com', password: GOOD_PASSWORD }, { clientAddress: '203.0.113.7' });
    expect(ada.email).toBe('ada@example.com');
    await expectAuthKitError(throwing.login({ username: 'ada@example.com', password: WRONG_PASSWORD }), 'invalid_credentials');
    const s = await throwing.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    expect(s.accessToken).toEqual(expect.any(String));
    expect((await throwing.authenticate(s.accessToken)).id).toBe(ada.id);
    await tick();
    await tick();
    expect(calls).toBe(3);
    expect(messages).toEqual([
      'auth-kit: the onEvent hook failed for a user_registered event',
      'auth-kit: the onEvent hook failed for a login_failed event',
      'auth-kit: the onEvent hook failed for a login_succeeded event',
    ]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['hook bug', 'hook bug', 'alerting is down']);
    for (const m of messages) {
      expect(m).not.toContain('ada@example.com');
      expect(m).not.toContain(GOOD_PASSWORD);
      expect(m).not.toContain('203.0.113.7');
    }
    // The events are stored all the same.
    const types = (await throwing.events.list()).events.map((e) => e.type).reverse();
    expect(types).toEqual(['user_registered', 'login_failed', 'login_succeeded']);
  });

  it('fails the request when an event cannot be stored: no silent loss, no session without its event', async () => {
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    // From here on every INSERT into auth_events fails; reading it (the lockout check) still works.
    await refuseInserts(t, 'auth_events', 'events are read-only');
    // A failed login whose login_failed cannot be stored is not answered invalid_credentials:
    // an uncounted guess would escape the lockout.
    const failed = await caught(auth.login({ username: 'ada@example.com', password: WRONG_PASSWORD }));
    expect(failed).not.toBeInstanceOf(AuthKitError);
    expect(String((failed as Error).message)).toContain('events are read-only');
    // A good password without a storable login_succeeded: refused, and no session was started.
    const good = await caught(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
    expect(String((good as Error).message)).toContain('events are read-only');
    expect(await t.db.selectFrom('auth_sessions').selectAll().execute()).toEqual([]);
    // Registration: the account is written before its event, so the caller sees the failure
    // (the README documents this); the event log is never skipped silently.
    const registered = await caught(auth.register({ email: 'bob@example.com', password: GOOD_PASSWORD }));
    expect(String((registered as Error).message)).toContain('events are read-only');
  });

  it('stores login_succeeded and the session together: a session that cannot be stored leaves no event, no hook call', async () => {
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const allowSessions = await refuseInserts(t, 'auth_sessions', 'sessions are read-only');
    heard.length = 0;
    const failed = await caught(auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
    expect(String((failed as Error).message)).toContain('sessions are read-only');
    await tick();
    // The event was written in the same transaction as the session, so it was rolled back with it.
    expect((await storedEvents()).map((e) => e.type)).toEqual(['user_registered']);
    expect(heard).toEqual([]);

    await allowSessions();
    const tokens = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    await tick();
    expect((await storedEvents()).map((e) => e.type)).toEqual(['user_registered', 'login_succeeded']);
    expect(heard.map((e) => e.type)).toEqual(['login_succeeded']);
    expect((await auth.authenticateWithClaims(tokens.accessToken)).claims.sid).toBe(tokens.sessionId);
  });

  it('auth.pruneEvents deletes events older than the cut-off; auth.events lists and prunes but cannot forge', async () => {
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    clock.advance(10 * 86_400_000);
    await expectAuthKitError(auth.login({ username: 'ada@example.com', password: WRONG_PASSWORD }), 'invalid_credentials');
    clock.advance(10 * 86_400_000);
    await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });

    // Day 0 user_registered, day 10 login_failed, day 20 login_succeeded; cut-off at day 15.
    const cutoff = new Date(clock.now().getTime() - 5 * 86_400_000);
    expect(await auth.pruneEvents({ olderThan: cutoff })).toBe(2);
    expect((await storedEvents()).map((e) => e.type)).toEqual(['login_succeeded']);
    expect(await auth.events.prune({ olderThan: new Date(clock.now().getTime() + 1) })).toBe(1);
    expect(await storedEvents()).toEqual([]);
    await expectAuthKitError(auth.pruneEvents({ olderThan: 'yesterday' as unknown as Date }), 'validation_failed');
    expect(Object.keys(auth.events).sort()).toEqual(['list', 'prune']);
  });

  it('a standalone user service records (de)activations only when given a recorder', async () => {
    const plain = createUserService(t.db);
    const ada = await plain.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    await plain.deactivateUser(ada.id);
    await plain.updateUser(ada.id, { isActive: true });
    expect(await storedRows()).toEqual([]);

    const recording = createUserService(t.db, { events: createEventRecorder(t.db, { clock: clock.now }) });
    await recording.deactivateUser(ada.id);
    await recording.updateUser(ada.id, { isActive: true });
    expect((await storedEvents()).map((e) => [e.type, e.userId, e.email])).toEqual([
      ['user_deactivated', ada.id, 'ada@example.com'],
      ['user_activated', ada.id, 'ada@example.com'],
    ]);
  });

  it('refuses a hook or logger that is not a function at construction', () => {
    for (const bad of [{ onEvent: 'log' }, { eventLogger: 42 }]) {
      let error: unknown;
      try {
        createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() }, ...(bad as object) });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AuthKitError);
      expect((error as AuthKitError).code).toBe('configuration_error');
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AUTH_EVENT_TYPES,
  type AuthEvent,
  type AuthEventInput,
  createEventRecorder,
  isAuthEventType,
  listEvents,
  migrate,
  pruneEvents,
  recordEvent,
} from 'auth-kit';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { expectAuthKitError, fakeClock } from './support/helpers.js';

const T0 = '2030-03-01T12:00:00.000Z';
const at = (base: string, ms: number) => new Date(new Date(base).getTime() + ms);

/** Resolves after pending promise callbacks ran (a hook's rejection handler, say); not a sleep. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('event types', () => {
  it('has every type the issue lists, and isAuthEventType knows them', () => {
    for (const type of [
      'user_registered',
      'login_succeeded',
      'login_failed',
      'login_throttled',
      'token_refreshed',
      'refresh_reuse_detected',
      'logout',
      'password_changed',
      'password_reset',
      'user_deactivated',
      'user_activated',
    ]) {
      expect(AUTH_EVENT_TYPES).toContain(type);
      expect(isAuthEventType(type)).toBe(true);
    }
    expect(isAuthEventType('password')).toBe(false);
    expect(isAuthEventType(undefined)).toBe(false);
  });

  it('refuses secret fields at compile time', () => {
    // Each line below must fail to type-check (tsc --noEmit covers the tests).
    // @ts-expect-error a password is never part of an event
    const a: AuthEventInput = { type: 'login_failed', password: 'x' };
    // @ts-expect-error a token is never part of an event
    const b: AuthEventInput = { type: 'token_refreshed', refreshToken: 'x' };
    // @ts-expect-error nor an access token
    const c: AuthEventInput = { type: 'login_succeeded', accessToken: 'x' };
    expect([a, b, c]).toHaveLength(3);
  });
});

describeEachDialect('events', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('records an event with normalised fields and returns it as stored', async () => {
    const clock = fakeClock(T0);
    const event = await recordEvent(
      t.db,
      {
        type: 'login_failed',
        email: '  Ada@Example.COM ',
        clientAddress: '::FFFF:192.0.2.7',
        userAgent: 'curl/8.0\r\nX-Injected: 1',
        userId: 42,
      },
      { clock: clock.now },
    );
    expect(event).toEqual({
      id: expect.any(Number),
      type: 'login_failed',
      userId: 42,
      email: 'ada@example.com',
      clientAddress: '192.0.2.7',
      userAgent: 'curl/8.0  X-Injected: 1',
      createdAt: new Date(T0),
    });
    const rows = await t.db.selectFrom('auth_events').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'login_failed',
      email: 'ada@example.com',
      client_address: '192.0.2.7',
      client_key: '192.0.2.7',
      user_agent: 'curl/8.0  X-Injected: 1',
    });
    expect(Number(rows[0].user_id)).toBe(42);
    expect(new Date(rows[0].created_at).toISOString()).toBe(T0);
    const page = await listEvents(t.db);
    expect(page.events).toEqual([event]);
  });

  it('stores IPv6 addresses canonically with their /64 key, and caps a long user agent', async () => {
    await recordEvent(t.db, { type: 'user_registered', clientAddress: '2001:0DB8:0001:0002:0000:0000:0000:0009', userAgent: 'x'.repeat(5000) });
    const row = await t.db.selectFrom('auth_events').selectAll().executeTakeFirstOrThrow();
    expect(row.client_address).toBe('2001:db8:1:2::9');
    expect(row.client_key).toBe('2001:db8:1:2::/64');
    expect(row.user_agent).toHaveLength(512);
    expect(row.user_id).toBeNull();
    expect(row.email).toBeNull();
  });

  it('never stores a password or a token, even when the caller spreads one in', async () => {
    const secrets = {
      password: 'hunter2-very-secret-password',
      token: 'tok-secret-aaaa',
      accessToken: 'eyJhbGciOiJIUzI1NiJ9.secret.sig',
      refreshToken: 'refresh-secret-bbbb',
      newPassword: 'new-secret-password',
    };
    const input = { type: 'login_failed', email: 'bob@example.com', ...secrets } as unknown as AuthEventInput;
    const seen: AuthEvent[] = [];
    const event = await recordEvent(t.db, input, { onEvent: (e) => void seen.push(e) });
    expect(Object.keys(event).sort()).toEqual(['clientAddress', 'createdAt', 'email', 'id', 'type', 'userAgent', 'userId']);
    expect(Object.keys(seen[0]).sort()).toEqual(Object.keys(event).sort());
    const row = await t.db.selectFrom('auth_events').selectAll().executeTakeFirstOrThrow();
    const stored = JSON.stringify(row) + JSON.stringify(event) + JSON.stringify(seen);
    for (const secret of Object.values(secrets)) expect(stored).not.toContain(secret);
    // Every column of the stored row (not db.introspection: on PostgreSQL it lists every schema,
    // and other test files drop theirs concurrently).
    const columns = Object.keys(row);
    expect(columns.sort()).toEqual(['client_address', 'client_key', 'created_at', 'email', 'id', 'type', 'user_agent', 'user_id']);
  });

  it('rejects an unknown type', async () => {
    await expectAuthKitError(recordEvent(t.db, { type: 'password' as never }), 'validation_failed');
    expect(await t.db.selectFrom('auth_events').selectAll().execute()).toEqual([]);
  });

  it('calls the hook after storing, with the stored event', async () => {
    const calls: { event: AuthEvent; rowsAtCall: number }[] = [];
    let hookDone!: () => void;
    const finished = new Promise<void>((resolve) => (hookDone = resolve));
    const events = createEventRecorder(t.db, {
      onEvent: async (event) => {
        const rows = await t.db.selectFrom('auth_events').select('id').where('id', '=', event.id).execute();
        calls.push({ event, rowsAtCall: rows.length });
        hookDone();
      },
    });
    const stored = await events.record('user_registered', { userId: 7, email: 'c@example.com' });
    await finished;
    expect(calls).toHaveLength(1);
    expect(calls[0].event).toEqual(stored);
    expect(calls[0].rowsAtCall).toBe(1);
  });

  it('logs a throwing hook with the event type only and does not throw', async () => {
    const logged: { message: string; error: unknown }[] = [];
    const boom = new Error('hook exploded for dave@example.com');
    const events = createEventRecorder(t.db, {
      onEvent: () => {
        throw boom;
      },
      logger: (message, error) => logged.push({ message, error }),
    });
    const event = await events.record('login_failed', { email: 'dave@example.com' });
    expect(event.type).toBe('login_failed');
    expect(logged).toHaveLength(1);
    expect(logged[0].message).toContain('login_failed');
    expect(logged[0].message).not.toContain('dave@example.com');
    expect(logged[0].error).toBe(boom);
    expect(await t.db.selectFrom('auth_events').selectAll().execute()).toHaveLength(1);
  });

  it('logs a rejecting hook and does not throw, not even when the logger throws', async () => {
    const logged: string[] = [];
    const events = createEventRecorder(t.db, {
      onEvent: () => Promise.reject(new Error('async failure')),
      logger: (message) => logged.push(message),
    });
    await events.record('logout', { userId: 3 });
    await settle();
    expect(logged).toEqual([expect.stringContaining('logout')]);

    const angry = createEventRecorder(t.db, {
      onEvent: () => {
        throw new Error('hook');
      },
      logger: () => {
        throw new Error('logger');
      },
    });
    await expect(angry.record('logout', { userId: 3 })).resolves.toMatchObject({ type: 'logout' });
  });

  it('logs through console.error by default, naming the type, not the details', async () => {
    const original = console.error;
    const lines: string[] = [];
    console.error = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
      await recordEvent(t.db, { type: 'login_failed', email: 'erin@example.com' }, {
        onEvent: () => {
          throw new Error('erin@example.com');
        },
      });
    } finally {
      console.error = original;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('login_failed');
    expect(lines[0]).not.toContain('erin@example.com');
  });

  it('lists newest first with filters and a keyset cursor that survives equal timestamps', async () => {
    const clock = fakeClock(T0);
    const events = createEventRecorder(t.db, { clock: clock.now });
    const recorded: AuthEvent[] = [];
    // 25 events; groups of five share a timestamp, so the cursor must break ties by id.
    for (let i = 0; i < 25; i++) {
      if (i % 5 === 0) clock.advance(60_000);
      const type = i % 3 === 0 ? 'login_failed' : i % 3 === 1 ? 'login_succeeded' : 'token_refreshed';
      recorded.push(await events.record(type, { userId: (i % 4) + 1, email: `user${i % 2}@example.com` }));
    }
    const newestFirst = [...recorded].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);

    const seen: AuthEvent[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listEvents(t.db, { limit: 7, cursor });
      seen.push(...page.events);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen.map((e) => e.id)).toEqual(newestFirst.map((e) => e.id));

    const failed = await listEvents(t.db, { type: 'login_failed', limit: 100 });
    expect(failed.events.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.type === 'login_failed').map((e) => e.id));
    expect(failed.nextCursor).toBeNull();

    const two = await listEvents(t.db, { type: ['login_failed', 'token_refreshed'], limit: 100 });
    expect(two.events.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.type !== 'login_succeeded').map((e) => e.id));

    const byUser = await listEvents(t.db, { userId: 2, limit: 100 });
    expect(byUser.events.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.userId === 2).map((e) => e.id));

    const byEmail = await listEvents(t.db, { email: ' USER1@example.com', limit: 100 });
    expect(byEmail.events.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.email === 'user1@example.com').map((e) => e.id));

    const since = at(T0, 3 * 60_000);
    const recent = await listEvents(t.db, { since, limit: 100 });
    expect(recent.events.map((e) => e.id)).toEqual(newestFirst.filter((e) => e.createdAt >= since).map((e) => e.id));
    const older = await listEvents(t.db, { until: since, type: 'login_succeeded', limit: 100 });
    expect(older.events.map((e) => e.id)).toEqual(
      newestFirst.filter((e) => e.createdAt < since && e.type === 'login_succeeded').map((e) => e.id),
    );
    expect(older.events.length).toBeGreaterThan(0);
  });

  it('rejects bad list options', async () => {
    await expectAuthKitError(listEvents(t.db, { limit: 0 }), 'validation_failed');
    await expectAuthKitError(listEvents(t.db, { limit: 1001 }), 'validation_failed');
    await expectAuthKitError(listEvents(t.db, { cursor: 'not-a-cursor' }), 'validation_failed');
    await expectAuthKitError(listEvents(t.db, { type: 'nope' as never }), 'validation_failed');
    await expectAuthKitError(listEvents(t.db, { since: new Date('x') }), 'validation_failed');
  });

  it('prunes events older than a date and returns the count', async () => {
    const clock = fakeClock('2030-01-01T00:00:00.000Z');
    const events = createEventRecorder(t.db, { clock: clock.now });
    for (let day = 0; day < 10; day++) {
      await events.record('login_succeeded', { userId: 1 });
      await events.record('login_failed', { email: 'x@example.com' });
      clock.advance(86_400_000);
    }
    const cutoff = new Date('2030-01-04T00:00:00.000Z'); // days 0, 1, 2 are older
    expect(await events.prune({ olderThan: cutoff })).toBe(6);
    const left = await listEvents(t.db, { limit: 100 });
    expect(left.events).toHaveLength(14);
    expect(left.events.every((e) => e.createdAt >= cutoff)).toBe(true);
    expect(await pruneEvents(t.db, { olderThan: cutoff })).toBe(0);
    await expectAuthKitError(pruneEvents(t.db, { olderThan: 'yesterday' as never }), 'validation_failed');
  });
});

/**
 * The session, event and status commands of the `auth-kit` bin, run for real: `node
 * dist/cli/index.js` as a child process against a temp SQLite file and against PostgreSQL (its own
 * schema). Sessions come from logins made through the library, events from `recordEvent` with a
 * fixed clock; every result is checked through the library or with SQL on the same database.
 * Output on a pipe never carries an escape code.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AUTH_EVENT_TYPES,
  type Auth,
  type AuthEventInput,
  type AuthStatus,
  checkLoginAllowed,
  createAuth,
  createPasswordHasher,
  createUserService,
  listActiveSessions,
  listEvents,
  migrate,
  recordEvent,
  revokeAllSessions,
} from 'auth-kit';
import { type CliOptions, SLOW, cli, ESC, expectFailure, expectOk, hasScript, runCliInTerminal, useTempDirs } from './support/cli.js';
import { type TestDatabase, describeEachDialect, openPostgresSchema, openSqlite, postgresProblem, PG_URL, REQUIRE_PG } from './support/databases.js';

const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const tempDir = useTempDirs('auth-kit-cli-life-');

/** The rows of a table printed by the bin: the lines after the header, split on 2+ spaces. */
function tableRows(stdout: string, header: RegExp): string[][] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => header.test(l));
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    rows.push(line.split(/\s{2,}/));
  }
  return rows;
}

/** What JSON makes of a value (Dates become ISO strings), to compare with the bin's --json. */
const asJson = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

const newSecret = () => randomBytes(32).toString('base64url');

interface Target {
  readonly name: 'sqlite-file' | 'postgres';
  open(): Promise<TestDatabase>;
}

const TARGETS: Target[] = [
  { name: 'sqlite-file', open: async () => openSqlite('file') },
  { name: 'postgres', open: openPostgresSchema },
];
const pgProblem = await postgresProblem();

for (const target of TARGETS) {
  const skip = target.name === 'postgres' && pgProblem !== null && !REQUIRE_PG;
  if (skip) console.warn(`[auth-kit tests] SKIPPING the lifecycle CLI on PostgreSQL: ${PG_URL} unreachable (${pgProblem})`);

  describe.skipIf(skip)(`auth-kit bin: sessions, events, status [${target.name}]`, SLOW, () => {
    let t: TestDatabase;
    let cwd: string;
    let auth: Auth;
    const secret = newSecret();
    /** Runs the bin against this target's database from a temp working directory. */
    const run = (args: readonly string[], options: CliOptions = {}) => cli([...args, '--database-url', t.url], { cwd, ...options });
    const json = async <T>(args: readonly string[], options: CliOptions = {}): Promise<T> => {
      const result = await run([...args, '--json'], options);
      expectOk(result);
      return JSON.parse(result.stdout) as T;
    };
    /** Records an event at a fixed time `ago` milliseconds before `now`. */
    const record = (input: AuthEventInput, now: number, ago: number) => recordEvent(t.db, input, { clock: () => new Date(now - ago) });

    beforeEach(async () => {
      if (target.name === 'postgres' && pgProblem !== null) throw new Error(`PostgreSQL unreachable: ${pgProblem}`);
      t = await target.open();
      cwd = tempDir();
      auth = createAuth({ db: t.db, settings: { jwtSecretKey: secret } });
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('users sessions: none, then the logins made through the library with address and user agent; --json; by id', async () => {
      await migrate(t.db);
      const ada = await auth.register({ email: 'ada@example.com', password: PASSWORD });
      const bob = await auth.register({ email: 'bob@example.com', password: PASSWORD });

      const none = await run(['users', 'sessions', 'ada@example.com']);
      expectOk(none);
      expect(none.stdout.trim()).toBe(`User #${ada.id} ada@example.com has no active sessions.`);
      expect(await json(['users', 'sessions', 'ada@example.com'])).toEqual({ userId: ada.id, email: 'ada@example.com', sessions: [] });

      const laptop = await auth.login({ username: 'ada@example.com', password: PASSWORD }, { clientAddress: '203.0.113.7', userAgent: 'Firefox/128.0' });
      const phone = await auth.login({ username: 'ada@example.com', password: PASSWORD }, { clientAddress: '2001:db8::5', userAgent: 'curl/8.5.0' });
      const rotated = await auth.refresh(phone.refreshToken, { userAgent: 'curl/8.6.0' });
      await auth.login({ username: 'bob@example.com', password: PASSWORD }, { clientAddress: '198.51.100.1', userAgent: 'Bob-Agent/1' });

      const table = await run(['users', 'sessions', 'ADA@example.com']);
      expectOk(table);
      expect(table.stdout).toContain(`User #${ada.id} ada@example.com has 2 active sessions, newest first:`);
      const rows = tableRows(table.stdout, /^ID\s+CREATED \(UTC\)\s+LAST USED \(UTC\)\s+EXPIRES \(UTC\)\s+CLIENT ADDRESS\s+USER AGENT$/);
      const library = await auth.listSessions(ada.id);
      expect(library.map((s) => s.id).sort()).toEqual([laptop.sessionId, phone.sessionId].sort());
      const utc = (d: Date | null) => (d === null ? '-' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''));
      expect(rows).toEqual(
        library.map((s) => [s.id, utc(s.createdAt), utc(s.lastUsedAt), utc(s.expiresAt), s.clientAddress, s.userAgent]),
      );
      expect(rows.find((r) => r[0] === phone.sessionId)).toEqual([phone.sessionId, expect.any(String), expect.stringMatching(/^\d{4}-/), expect.any(String), '2001:db8::5', 'curl/8.6.0']);
      expect(rows.find((r) => r[0] === laptop.sessionId)?.slice(2, 6)).toEqual(['-', expect.any(String), '203.0.113.7', 'Firefox/128.0']);
      expect(table.stdout).not.toContain('Bob-Agent');
      // Tokens never reach the output (only their hashes are stored anyway).
      for (const token of [laptop.refreshToken, rotated.refreshToken, laptop.accessToken]) expect(table.stdout).not.toContain(token);

      const listed = await json<{ userId: number; email: string; sessions: unknown[] }>(['users', 'sessions', String(ada.id)]);
      expect(listed).toEqual({
        userId: ada.id,
        email: 'ada@example.com',
        sessions: asJson(library.map(({ current: _current, ...s }) => s)),
      });
      // The db-level function the bin uses is the one behind auth.listSessions.
      expect(await listActiveSessions(t.db, ada.id, { now: new Date() })).toEqual(library);

      expect(expectFailure(await run(['users', 'sessions', 'nobody@example.com']), 1, 'auth-kit users sessions')).toContain('nobody@example.com');
      expect(expectFailure(await run(['users', 'sessions', '99999']), 1, 'auth-kit users sessions')).toContain('id 99999');
      expectFailure(await run(['users', 'sessions']), 2, 'auth-kit users sessions');
      expectFailure(await run(['users', 'sessions', 'a@example.com', 'b@example.com']), 2, 'auth-kit users sessions');
      expect(bob.id).not.toBe(ada.id);
    });

    it('users revoke-sessions: refresh and access tokens of that user fail afterwards, others keep working', async () => {
      await migrate(t.db);
      const ada = await auth.register({ email: 'ada@example.com', password: PASSWORD });
      await auth.register({ email: 'bob@example.com', password: PASSWORD });
      const first = await auth.login({ username: 'ada@example.com', password: PASSWORD }, { clientAddress: '203.0.113.7' });
      const second = await auth.login({ username: 'ada@example.com', password: PASSWORD });
      const bobLogin = await auth.login({ username: 'bob@example.com', password: PASSWORD });
      expect((await auth.authenticate(first.accessToken)).id).toBe(ada.id);

      const result = await run(['users', 'revoke-sessions', 'ada@example.com']);
      expectOk(result);
      expect(result.stdout.trim()).toBe(
        `Revoked 2 active sessions of user #${ada.id} ada@example.com; access tokens issued before now no longer work.`,
      );
      for (const login of [first, second]) {
        await expect(auth.refresh(login.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
        await expect(auth.authenticate(login.accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
      }
      expect(await auth.listSessions(ada.id)).toEqual([]);
      expect((await run(['users', 'sessions', 'ada@example.com'])).stdout).toContain('has no active sessions');
      // Bob is untouched.
      expect((await auth.authenticate(bobLogin.accessToken)).email).toBe('bob@example.com');
      const bobNext = await auth.refresh(bobLogin.refreshToken);
      // The revocation is recorded as a logout of ada.
      const logouts = await listEvents(t.db, { type: 'logout', userId: ada.id });
      expect(logouts.events.map((e) => [e.userId, e.email])).toEqual([[ada.id, 'ada@example.com']]);

      // A new login works; by id and --json; a user without sessions gives 0 (tokens still cut off).
      const third = await auth.login({ username: 'ada@example.com', password: PASSWORD });
      expect(await json(['users', 'revoke-sessions', String(ada.id)])).toEqual({ userId: ada.id, email: 'ada@example.com', revoked: 1 });
      await expect(auth.authenticate(third.accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
      const again = await run(['users', 'revoke-sessions', 'ada@example.com']);
      expect(again.stdout).toContain('Revoked 0 active sessions');
      expect((await auth.authenticate(bobNext.accessToken)).email).toBe('bob@example.com');
      // revokeAllSessions itself: null for a user that does not exist.
      expect(await revokeAllSessions(t.db, 99999, { now: new Date() })).toBeNull();

      expect(expectFailure(await run(['users', 'revoke-sessions', 'nobody@example.com']), 1, 'auth-kit users revoke-sessions')).toContain(
        'nobody@example.com',
      );
      expectFailure(await run(['users', 'revoke-sessions']), 2, 'auth-kit users revoke-sessions');
      expect(expectFailure(await run(['users', 'revoke-sessions', 'a@example.com', '--all']), 2, 'auth-kit users revoke-sessions')).toContain('--all');
    });

    it('users unlock: a locked-out email is accepted again', async () => {
      await migrate(t.db);
      // A bare user service records no event (a registration would clear the count it precedes).
      const ada = await createUserService(t.db, { passwords: createPasswordHasher({ maxConcurrent: 1 }) }).createUser({
        email: 'ada@example.com',
        password: PASSWORD,
      });
      const now = Date.now();
      for (let i = 0; i < 100; i++) await record({ type: 'login_failed', email: 'ada@example.com', userId: ada.id }, now, 60_000 + i);
      const verdict = () => checkLoginAllowed(t.db, 'ada@example.com', { now: new Date(), maxFailedLogins: 5, windowMinutes: 15 });
      expect(await verdict()).toMatchObject({ allowed: false, reason: 'consecutive_limit' });

      const result = await run(['users', 'unlock', 'Ada@Example.com']);
      expectOk(result);
      expect(result.stdout.trim()).toBe('Cleared the failed-login count of ada@example.com: logins are accepted again.');
      expect(await verdict()).toEqual({ allowed: true });
      expect((await listEvents(t.db, { type: 'lockout_cleared' })).events.map((e) => e.email)).toEqual(['ada@example.com']);

      const unknown = await run(['users', 'unlock', 'ghost@example.com']);
      expect(unknown.stdout).toContain('ghost@example.com (no account has this email)');
      expectOk(await run(['users', 'unlock', String(ada.id)]));
      expect((await listEvents(t.db, { type: 'lockout_cleared' })).events).toHaveLength(3);
      expect(expectFailure(await run(['users', 'unlock', 'not an email']), 2, 'auth-kit users unlock')).toContain('email');
      expectFailure(await run(['users', 'unlock', '99999']), 1, 'auth-kit users unlock');
    });

    it('users deactivate / activate record user_deactivated / user_activated (S19), once per real change', async () => {
      await migrate(t.db);
      const bob = await createUserService(t.db, { passwords: createPasswordHasher({ maxConcurrent: 1 }) }).createUser({
        email: 'bob@example.com',
        password: PASSWORD,
      });
      expectOk(await run(['users', 'deactivate', 'bob@example.com']));
      expectOk(await run(['users', 'deactivate', 'bob@example.com'])); // already inactive: no second event
      expectOk(await run(['users', 'activate', String(bob.id)]));
      const { events } = await listEvents(t.db, { type: ['user_deactivated', 'user_activated'] });
      expect(events.map((e) => [e.type, e.userId, e.email])).toEqual([
        ['user_activated', bob.id, 'bob@example.com'],
        ['user_deactivated', bob.id, 'bob@example.com'],
      ]);
    });

    it('events list: empty, newest first, filters by type/user/since, pages, --json equal to listEvents', async () => {
      await migrate(t.db);
      const empty = await run(['events', 'list']);
      expectOk(empty);
      expect(empty.stdout.trim()).toBe('No events recorded yet.');
      expect(await json(['events', 'list'])).toEqual({ events: [], nextCursor: null });

      // A bare user service records no event, so the events below are the only ones.
      const ada = await createUserService(t.db, { passwords: createPasswordHasher({ maxConcurrent: 1 }) }).createUser({
        email: 'ada@example.com',
        password: PASSWORD,
      });
      const now = Date.now();
      const e = {
        registered: await record({ type: 'user_registered', userId: ada.id, email: 'ada@example.com' }, now, 10 * DAY),
        unknownFailed: await record({ type: 'login_failed', email: 'Ghost@Example.com', clientAddress: '198.51.100.9' }, now, 30 * HOUR),
        throttled: await record({ type: 'login_throttled', email: 'ghost@example.com', clientAddress: '198.51.100.9' }, now, 29 * HOUR),
        succeeded: await record(
          { type: 'login_succeeded', userId: ada.id, email: 'ada@example.com', clientAddress: '203.0.113.7', userAgent: 'Firefox/128.0' },
          now,
          2 * HOUR,
        ),
        failed: await record({ type: 'login_failed', userId: ada.id, email: 'ada@example.com', clientAddress: '203.0.113.7' }, now, 90 * 60_000),
        logout: await record({ type: 'logout', userId: ada.id }, now, 5 * 60_000),
      };
      const ids = (...events: { id: number }[]) => events.map((x) => x.id);
      type Page = { events: { id: number }[]; nextCursor: string | null };
      const listIds = async (args: string[]) => (await json<Page>(['events', 'list', ...args])).events.map((x) => x.id);

      // The table: newest first, every column.
      const table = await run(['events', 'list']);
      expectOk(table);
      const rows = tableRows(table.stdout, /^ID\s+TIME \(UTC\)\s+TYPE\s+USER\s+EMAIL\s+CLIENT ADDRESS\s+USER AGENT$/);
      expect(rows.map((r) => Number(r[0]))).toEqual(ids(e.logout, e.failed, e.succeeded, e.throttled, e.unknownFailed, e.registered));
      expect(rows[2]).toEqual([
        String(e.succeeded.id),
        e.succeeded.createdAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
        'login_succeeded',
        String(ada.id),
        'ada@example.com',
        '203.0.113.7',
        'Firefox/128.0',
      ]);
      expect(rows[0]).toEqual([String(e.logout.id), expect.any(String), 'logout', String(ada.id), '-', '-', '-']);
      expect(rows[4].slice(2, 6)).toEqual(['login_failed', '-', 'ghost@example.com', '198.51.100.9']);

      // --json is listEvents, parsed back.
      expect(await json(['events', 'list'])).toEqual(asJson(await listEvents(t.db)));

      // --type: one, a comma list, repeated; all validated.
      expect(await listIds(['--type', 'login_failed'])).toEqual(ids(e.failed, e.unknownFailed));
      expect(await listIds(['--type', 'login_failed,logout'])).toEqual(ids(e.logout, e.failed, e.unknownFailed));
      expect(await listIds(['--type', 'login_failed', '--type', 'logout'])).toEqual(ids(e.logout, e.failed, e.unknownFailed));
      // --user: by email (any case) or id → that account's events; an email without an account → events with it.
      expect(await listIds(['--user', 'ADA@example.com'])).toEqual(ids(e.logout, e.failed, e.succeeded, e.registered));
      expect(await listIds(['--user', String(ada.id)])).toEqual(ids(e.logout, e.failed, e.succeeded, e.registered));
      expect(await listIds(['--user', 'ghost@example.com'])).toEqual(ids(e.throttled, e.unknownFailed));
      const ghost = await run(['events', 'list', '--user', 'ghost@example.com']);
      expect(ghost.stderr).toContain('No account has the email ghost@example.com');
      expect(tableRows(ghost.stdout, /^ID\s+TIME/)).toHaveLength(2);
      // --since: a duration or an ISO date.
      expect(await listIds(['--since', '24h'])).toEqual(ids(e.logout, e.failed, e.succeeded));
      expect(await listIds(['--since', '3d'])).toEqual(ids(e.logout, e.failed, e.succeeded, e.throttled, e.unknownFailed));
      expect(await listIds(['--since', new Date(now - 3 * HOUR).toISOString()])).toEqual(ids(e.logout, e.failed, e.succeeded));
      expect(await listIds(['--since', '3000-01-01'])).toEqual([]);
      // Combined.
      expect(await listIds(['--type', 'login_failed', '--user', 'ada@example.com', '--since', '1d'])).toEqual(ids(e.failed));
      expect((await run(['events', 'list', '--type', 'password_reset'])).stdout.trim()).toBe('No events match these filters.');

      // Pages: --limit and --cursor, in JSON and in the table (whose hint repeats the filters).
      const page1 = await json<Page>(['events', 'list', '--limit', '2']);
      expect(page1.events.map((x) => x.id)).toEqual(ids(e.logout, e.failed));
      const page2 = await json<Page>(['events', 'list', '--limit', '2', '--cursor', page1.nextCursor!]);
      expect(page2.events.map((x) => x.id)).toEqual(ids(e.succeeded, e.throttled));
      const page3 = await json<Page>(['events', 'list', '--limit', '2', '--cursor', page2.nextCursor!]);
      expect(page3).toEqual(asJson({ events: [e.unknownFailed, e.registered], nextCursor: null }));
      const human = await run(['events', 'list', '--limit', '1', '--type', 'login_failed', '--since', '3d']);
      const hint = /More events: (auth-kit events list .*)$/m.exec(human.stdout)?.[1];
      expect(hint).toMatch(/^auth-kit events list --type login_failed --since \d{4}-\d\d-\d\dT[\d:.]+Z --limit 1 --cursor \S+$/);
      const next = await run(hint!.split(' ').slice(1));
      expect(tableRows(next.stdout, /^ID\s+TIME/).map((r) => Number(r[0]))).toEqual(ids(e.unknownFailed));
      expect(next.stdout).not.toContain('More events');
      expect((await run(['events', 'list', '--cursor', page2.nextCursor!, '--type', 'logout'])).stdout.trim()).toBe('No more events.');

      // Usage errors (exit 2) and a damaged cursor (exit 1).
      const typeError = expectFailure(await run(['events', 'list', '--type', 'login_failed,bogus']), 2, 'auth-kit events list');
      expect(typeError).toContain('"bogus"');
      for (const type of AUTH_EVENT_TYPES) expect(typeError).toContain(type);
      const usage: [string[], string][] = [
        [['--type', ','], '--type'],
        [['--since', 'yesterday'], '--since'],
        [['--since', '7w'], '--since'],
        [['--since', '2025-13-45'], '--since'],
        [['--limit', '0'], '--limit'],
        [['--limit', '1001'], '--limit'],
        [['--user', 'not an email'], '--user'],
        [['--json=yes'], '--json'],
        [['--type'], '--type'],
        [['extra'], 'no arguments'],
      ];
      for (const [args, text] of usage) {
        expect(expectFailure(await run(['events', 'list', ...args]), 2, 'auth-kit events list'), args.join(' ')).toContain(text);
      }
      expect(expectFailure(await run(['events', 'list', '--user', '99999']), 1, 'auth-kit events list')).toContain('id 99999');
      expect(expectFailure(await run(['events', 'list', '--cursor', 'not-a-cursor']), 1, 'auth-kit events list')).toContain('cursor');
    });

    it('events prune --older-than: deletes exactly the older events and prints how many', async () => {
      await migrate(t.db);
      const now = Date.now();
      const kept = [
        await record({ type: 'login_failed', email: 'a@example.com' }, now, 89 * DAY),
        await record({ type: 'login_succeeded', email: 'a@example.com' }, now, HOUR),
      ];
      await record({ type: 'login_failed', email: 'a@example.com' }, now, 100 * DAY);
      await record({ type: 'logout', userId: 7 }, now, 91 * DAY);
      const remaining = async () => (await listEvents(t.db, { limit: 1000 })).events.map((x) => x.id).sort((a, b) => a - b);

      const result = await run(['events', 'prune', '--older-than', '90d']);
      expectOk(result);
      expect(result.stdout).toMatch(/^Deleted 2 events older than 90d \(created before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\.\n$/);
      expect(await remaining()).toEqual(kept.map((x) => x.id).sort((a, b) => a - b));
      expect((await run(['events', 'prune', '--older-than', '90d'])).stdout).toContain('Deleted 0 events');

      const before = Date.now();
      const pruned = await json<{ deleted: number; before: string }>(['events', 'prune', '--older-than', '720h']);
      expect(pruned.deleted).toBe(1);
      const cutoff = Date.parse(pruned.before);
      expect(cutoff).toBeGreaterThanOrEqual(before - 30 * DAY);
      expect(cutoff).toBeLessThanOrEqual(Date.now() - 30 * DAY);
      expect(await remaining()).toEqual([kept[1].id]);
      expect((await run(['events', 'prune', '--older-than', '30m'])).stdout).toContain('Deleted 1 event older than 30m');
      expect(await remaining()).toEqual([]);

      for (const [args, text] of [
        [[], '--older-than is required'],
        [['--older-than', '90'], '--older-than'],
        [['--older-than', '3w'], '--older-than'],
        [['--older-than', '0d'], '--older-than'],
        [['--older-than'], '--older-than'],
      ] as [string[], string][]) {
        expect(expectFailure(await run(['events', 'prune', ...args]), 2, 'auth-kit events prune'), args.join(' ')).toContain(text);
      }
    });

    it('prune: deletes the rows of expired sessions and used or expired reset tokens; live sessions stay; --json', async () => {
      await migrate(t.db);
      const monthAgo = createAuth({
        db: t.db,
        settings: { jwtSecretKey: secret },
        clock: () => new Date(Date.now() - 30 * DAY),
        sendPasswordResetEmail: () => undefined,
      });
      const ada = await monthAgo.register({ email: 'ada@example.com', password: PASSWORD });
      const ended = await monthAgo.login({ username: 'ada@example.com', password: PASSWORD });
      await monthAgo.refresh(ended.refreshToken);
      await monthAgo.requestPasswordReset('ada@example.com');
      const live = await auth.login({ username: 'ada@example.com', password: PASSWORD });

      const result = await run(['prune']);
      expectOk(result);
      expect(result.stdout).toBe('Deleted 2 session rows of sessions past their lifetime and 1 used or expired password-reset token.\n');
      expect((await listActiveSessions(t.db, ada.id)).map((s) => s.id)).toEqual([live.sessionId]);
      expect(await t.db.selectFrom('auth_sessions').select('id').execute()).toHaveLength(1);
      expect(await json(['prune'])).toEqual({ sessions: 0, passwordResetTokens: 0 });
      expect((await auth.refresh(live.refreshToken)).sessionId).toBe(live.sessionId);
    });

    it('event commands on a database without auth-kit tables fail and say to migrate', async () => {
      for (const args of [['events', 'list'], ['events', 'prune', '--older-than', '1d'], ['users', 'sessions', 'a@example.com'], ['prune']]) {
        expect(expectFailure(await run(args), 1, `auth-kit ${args.slice(0, 2).join(' ')}`)).toContain('auth-kit migrate');
      }
    });

    it('status: every metadata value equals the database; the text has the counts and the hourly bar chart', async () => {
      const env = { JWT_SECRET_KEY: secret };
      // Not migrated yet: working with issues → warning, exit 0.
      const pending = await run(['status', '--json'], { env });
      expectOk(pending);
      const pendingStatus = JSON.parse(pending.stdout) as AuthStatus;
      expect(pendingStatus.status).toBe('warning');
      expect(pendingStatus.metadata.configurationIssues.join(' ')).toMatch(/migrations? pending/);

      await migrate(t.db);
      const users = [];
      for (const email of ['ada@example.com', 'bob@example.com', 'cy@example.com']) users.push(await auth.register({ email, password: PASSWORD }));
      await auth.users.deactivateUser(users[2].id);
      const adaLogin = await auth.login({ username: 'ada@example.com', password: PASSWORD });
      await auth.refresh(adaLogin.refreshToken); // the session stays one session
      await auth.login({ username: 'ada@example.com', password: PASSWORD });
      const bobLogin = await auth.login({ username: 'bob@example.com', password: PASSWORD });
      await auth.logout(bobLogin.refreshToken);
      const now = Date.now();
      // Failed logins for an unknown email (so no lockout interferes), at controlled times.
      for (const ago of [HOUR, HOUR, HOUR, 5 * HOUR, 30 * HOUR, 30 * HOUR]) {
        await record({ type: 'login_failed', email: 'mallory@example.com' }, now, ago);
      }
      await record({ type: 'login_succeeded', userId: users[0].id }, now, HOUR);

      const result = await run(['status', '--json'], { env });
      expectOk(result);
      const status = JSON.parse(result.stdout) as AuthStatus;
      const checkedAt = Date.parse(status.checkedAt);
      const at = (ms: number) => new Date(ms).toISOString();
      // Independently from the database, at the bin's checkedAt.
      const count = async (query: Promise<{ n: unknown } | undefined>) => Number((await query)!.n);
      const totalUsers = await count(t.db.selectFrom('auth_users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst());
      const activeUsers = (await t.db.selectFrom('auth_users').select('is_active').execute()).filter((r) => Boolean(r.is_active)).length;
      const sessions = await t.db.selectFrom('auth_sessions').select(['used_at', 'revoked_at', 'expires_at']).execute();
      const activeSessions = sessions.filter((s) => s.used_at === null && s.revoked_at === null && new Date(s.expires_at).getTime() > checkedAt).length;
      const failedTimes = (await t.db.selectFrom('auth_events').select('created_at').where('type', '=', 'login_failed').execute()).map((r) =>
        new Date(r.created_at).getTime(),
      );
      const hourStart = Math.floor(checkedAt / HOUR) * HOUR;
      const expectedHours = Array.from({ length: 24 }, (_, i) => {
        const start = hourStart - (23 - i) * HOUR;
        return { hour: at(start), count: failedTimes.filter((x) => x >= start && x < start + HOUR).length };
      });

      expect(status).toEqual({
        name: 'auth',
        status: 'healthy',
        message: 'All checks passed',
        checkedAt: expect.any(String),
        responseTimeMs: expect.any(Number),
        metadata: {
          totalUsers,
          activeUsers,
          failedLogins24h: failedTimes.filter((x) => x >= checkedAt - DAY).length,
          activeSessions,
          tokenValidation: 'ok',
          securityFeatures: expect.arrayContaining(['argon2id m=19456,t=2,p=1', 'lockout 5/15m', 'refresh token rotation', 'event log']),
          avgTokenLifetime: '30m',
          jwtAlgorithm: 'HS256',
          database: t.dialect,
          configurationIssues: [],
          failedLoginsByHour: expectedHours,
        },
      });
      // And the numbers the script produced, so the comparison above is not vacuous.
      expect([totalUsers, activeUsers, activeSessions, status.metadata.failedLogins24h]).toEqual([3, 2, 2, 4]);
      expect(expectedHours.map((h) => h.count).filter((n) => n > 0).sort()).toEqual([1, 3]);
      expect(checkedAt).toBeGreaterThanOrEqual(now);

      const text = await run(['status'], { env });
      expectOk(text);
      expect(text.stderr).toBe('');
      const out = text.stdout;
      expect(out).toMatch(/^auth {2}healthy {2}All checks passed\n/);
      expect(out).toMatch(/^checked \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC in [\d.]+ ms on (sqlite|postgres):\/\//m);
      if (t.dialect === 'sqlite') expect(out).toContain(` on ${t.url}\n`);
      for (const [name, value] of [
        ['Users', '3 (2 active)'],
        ['Failed logins, 24 h', '4'],
        ['Active sessions', '2'],
        ['Token validation', 'ok'],
        ['Access token lifetime', '30m'],
        ['JWT algorithm', 'HS256'],
        ['Database', t.dialect],
        ['Configuration issues', 'none'],
      ]) {
        expect(out).toMatch(new RegExp(`^${name.replace(/[(),]/g, '\\$&')} +${value.replace(/[()]/g, '\\$&')}$`, 'm'));
      }
      expect(out).toMatch(/^Security features +argon2id m=19456,t=2,p=1, lockout 5\/15m/m);
      expect(out).toContain('Failed logins per hour (UTC, last 24 hours; most in one hour: 3)');
      const hh = (ms: number) => at(Math.floor(ms / HOUR) * HOUR).slice(11, 16);
      expect(out).toMatch(new RegExp(`^ {2}${hh(now - HOUR)} │█{40} 3$`, 'm'));
      expect(out).toMatch(new RegExp(`^ {2}${hh(now - 5 * HOUR)} │█{13} 1$`, 'm'));
      const chart = out.split('\n').filter((l) => / │/.test(l));
      expect(chart).toHaveLength(24);
      expect(chart.filter((l) => l.includes('█'))).toHaveLength(2);
    });

    it('status: warning with the reasons (exit 0); no JWT_SECRET_KEY or a weak one fails with one clear line', async () => {
      await migrate(t.db);
      const warn = await run(['status'], { env: { JWT_SECRET_KEY: secret, AUTH_MAX_FAILED_LOGINS: '0', JWT_ACCESS_TOKEN_EXPIRE_MINUTES: '2880' } });
      expectOk(warn);
      expect(warn.stdout).toMatch(/^auth {2}warning {2}Working, with 2 configuration issues\n/);
      expect(warn.stdout).toMatch(/^Configuration issues +2$/m);
      expect(warn.stdout).toMatch(/^ {2}- Account lockout is disabled/m);
      expect(warn.stdout).toMatch(/^ {2}- Access tokens live 2d/m);
      expect(warn.stdout).toContain('Failed logins per hour: none in the last 24 hours.');
      const warnJson = await json<AuthStatus>(['status'], { env: { JWT_SECRET_KEY: secret, AUTH_MAX_FAILED_LOGINS: '0' } });
      expect(warnJson.status).toBe('warning');
      expect(warnJson.metadata.configurationIssues).toEqual([expect.stringContaining('lockout is disabled')]);

      const missing = expectFailure(await run(['status']), 1, 'auth-kit status');
      expect(missing).toContain('JWT_SECRET_KEY is not set');
      expect(missing).toContain('auth-kit secret');
      expectFailure(await run(['status', '--json']), 1, 'auth-kit status');
      const weakSecret = 'too-short-secret';
      const weak = expectFailure(await run(['status'], { env: { JWT_SECRET_KEY: weakSecret } }), 1, 'auth-kit status');
      expect(weak).toContain('JWT_SECRET_KEY');
      expect(weak).not.toContain(weakSecret);
      expect(expectFailure(await run(['status', 'extra'], { env: { JWT_SECRET_KEY: secret } }), 2, 'auth-kit status')).toContain('no arguments');
      expect(expectFailure(await run(['status', '--watch'], { env: { JWT_SECRET_KEY: secret } }), 2, 'auth-kit status')).toContain('--watch');
    });
  });
}

describe('auth-kit bin: lifecycle commands, database-independent', SLOW, () => {
  it('status on an unreachable database: unhealthy, exit 1, the reason, never the password', async () => {
    const url = 'postgres://u:secretpw@127.0.0.1:1/x';
    const env = { JWT_SECRET_KEY: newSecret() };
    const text = await cli(['status', '--database-url', url], { env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^auth {2}unhealthy {2}Database unreachable: .*ECONNREFUSED/);
    expect(text.stdout).toContain('on postgres://u:***@127.0.0.1:1/x');
    expect(text.stdout).toMatch(/^Users +unknown \(unknown active\)$/m);
    expect(text.stdout + text.stderr).not.toContain('secretpw');

    const viaEnv = await cli(['status', '--json'], { env: { ...env, DATABASE_URL: url } });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stdout + viaEnv.stderr).not.toContain('secretpw');
    const status = JSON.parse(viaEnv.stdout) as AuthStatus;
    expect(status).toMatchObject({ name: 'auth', status: 'unhealthy', metadata: { database: 'postgres', totalUsers: null, tokenValidation: 'ok' } });
    expect(status.message).toMatch(/^Database unreachable: .*ECONNREFUSED/);
  });

  it('status on a database that accepts connections but never answers: unhealthy after --timeout, exit 1', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined); // reads the startup message, never answers
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as AddressInfo).port;
    try {
      // If the bin waited for the stuck connection to close, this would never return (the server
      // only closes below): the test would time out.
      const result = await cli(['status', '--json', '--timeout', '1', '--database-url', `postgres://u:quietpw@127.0.0.1:${port}/x`], {
        env: { JWT_SECRET_KEY: newSecret() },
      });
      expect(result.code).toBe(1);
      const status = JSON.parse(result.stdout) as AuthStatus;
      expect(status).toMatchObject({ status: 'unhealthy', message: 'Database unreachable: the database did not answer within 1000 ms' });
      expect(result.stdout + result.stderr).not.toContain('quietpw');
      expect(sockets.size).toBeGreaterThan(0); // it did connect
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
    for (const value of ['0', '601', 'soon']) {
      const line = expectFailure(await cli(['status', '--timeout', value], { env: { JWT_SECRET_KEY: newSecret() } }), 2, 'auth-kit status');
      expect(line).toContain('--timeout');
    }
  });

  it('status on a missing SQLite file fails in one line and creates nothing', async () => {
    const dir = tempDir();
    const line = expectFailure(await cli(['status'], { cwd: dir, env: { JWT_SECRET_KEY: newSecret() } }), 1, 'auth-kit status');
    expect(line).toContain('unhealthy: there is no database at sqlite:///./app.db');
    expect(line).toContain('auth-kit migrate');
    expect(existsSync(join(dir, 'app.db'))).toBe(false);
  });

  it('--help on every new command has usage, options and examples; groups list the new commands', async () => {
    const cases: [string[], string[]][] = [
      [['users', 'sessions'], ['<email|id>', '--json']],
      [['users', 'revoke-sessions'], ['<email|id>', '--json']],
      [['users', 'unlock'], ['<email|id>']],
      [['events'], ['list', 'prune']],
      [['events', 'list'], ['--type <type>', '--user <email|id>', '--since <when>', '--limit <n>', '--cursor <cursor>', '--json', 'login_throttled']],
      [['events', 'prune'], ['--older-than <duration>', '--json']],
      [['prune'], ['--json', 'auth-kit events prune']],
      [['status'], ['--json', '--timeout <seconds>', 'JWT_SECRET_KEY', '1 unhealthy']],
    ];
    for (const [words, expected] of cases) {
      const help = await cli([...words, '--help']);
      expectOk(help);
      expect(help.stdout).toContain(`Usage: auth-kit ${words.join(' ')}`);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('--database-url');
      for (const text of expected) expect(help.stdout, words.join(' ')).toContain(text);
    }
    const users = (await cli(['users', '--help'])).stdout;
    for (const name of ['sessions', 'revoke-sessions', 'unlock']) expect(users).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    const root = (await cli(['--help'])).stdout;
    for (const name of ['events', 'prune', 'status']) expect(root).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    const group = await cli(['events']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: auth-kit events <command>');
    expect(expectFailure(await cli(['events', 'prun']), 2, 'auth-kit events')).toContain('did you mean "prune"');
  });
});

const scriptAvailable = hasScript();
if (!scriptAvailable) console.warn('[auth-kit tests] SKIPPING the lifecycle CLI terminal tests: util-linux `script` is not installed');

describe.skipIf(!scriptAvailable)('auth-kit bin: lifecycle commands on a terminal', SLOW, () => {
  let t: TestDatabase;
  const env = { JWT_SECRET_KEY: newSecret() };
  beforeAll(async () => {
    t = openSqlite('file');
    await migrate(t.db);
    await recordEvent(t.db, { type: 'login_failed', email: 'a@example.com' });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('status and events list: colour on a terminal, none with NO_COLOR', async () => {
    const coloured = await runCliInTerminal(['status', '--database-url', t.url], { env });
    expect(coloured.code, coloured.screen).toBe(0);
    expect(coloured.screen).toContain(`${ESC}[32m`); // healthy in green
    expect(coloured.screen).toContain(`${ESC}[31m█`); // the bar in red
    const plain = await runCliInTerminal(['status', '--database-url', t.url], { env: { ...env, NO_COLOR: '1' } });
    expect(plain.code, plain.screen).toBe(0);
    expect(plain.screen).toContain('healthy');
    expect(plain.screen).toContain('█ 1');
    expect(plain.screen).not.toContain(ESC);

    const events = await runCliInTerminal(['events', 'list', '--database-url', t.url], { env: { NO_COLOR: '1' } });
    expect(events.code, events.screen).toBe(0);
    expect(events.screen).toContain('login_failed');
    expect(events.screen).not.toContain(ESC);
    const failing = await runCliInTerminal(['events', 'prune', '--database-url', t.url], { env: { NO_COLOR: '1' } });
    expect(failing.code).toBe(2);
    expect(failing.screen).toContain('auth-kit events prune: --older-than is required');
    expect(failing.screen).not.toContain(ESC);
  });
});

describeEachDialect('listActiveSessions / revokeAllSessions', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('list the live sessions at a given time; revoke them all and cut off access tokens', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), refreshTokenExpireDays: 1 }, clock: () => now });
    const ada = await auth.register({ email: 'ada@example.com', password: PASSWORD });
    const first = await auth.login({ username: 'ada@example.com', password: PASSWORD }, { clientAddress: '203.0.113.7', userAgent: 'UA/1' });
    now = new Date('2030-01-01T12:00:00Z');
    const second = await auth.login({ username: 'ada@example.com', password: PASSWORD });
    const listed = await listActiveSessions(t.db, ada.id, { now, currentSessionId: second.sessionId });
    expect(listed.map((s) => [s.id, s.current, s.clientAddress, s.userAgent])).toEqual([
      [second.sessionId, true, null, null],
      [first.sessionId, false, '203.0.113.7', 'UA/1'],
    ]);
    expect(listed).toEqual(await auth.listSessions(ada.id, { currentSessionId: second.sessionId }));
    // A day after the first login, only the second session is live.
    expect((await listActiveSessions(t.db, ada.id, { now: new Date('2030-01-02T06:00:00Z') })).map((s) => s.id)).toEqual([second.sessionId]);
    await expect(listActiveSessions(t.db, 0)).rejects.toMatchObject({ code: 'validation_failed' });

    expect(await revokeAllSessions(t.db, ada.id, { now })).toBe(2);
    await expect(auth.authenticate(second.accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(auth.refresh(first.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await listActiveSessions(t.db, ada.id, { now })).toEqual([]);
    expect(await revokeAllSessions(t.db, ada.id, { now })).toBe(0);
    expect(await revokeAllSessions(t.db, ada.id + 1000, { now })).toBeNull();
    // auth.logoutAll is the same operation.
    const third = await auth.login({ username: 'ada@example.com', password: PASSWORD });
    expect(await auth.logoutAll(ada.id)).toBe(1);
    await expect(auth.authenticate(third.accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
  });
});

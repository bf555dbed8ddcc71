import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { CompiledQuery, type Kysely, Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Auth,
  type AuthStatus,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type SettingsInput,
  createAuth,
  createTokenService,
  formatMinutes,
  getAuthStatus,
  migrate,
  openDatabase,
  renderAuthCard,
  renderAuthDashboard,
} from 'auth-kit';
import { migrations } from '../src/database/migrations.js';
import { statusQueries } from '../src/status.js';
import { failuresQuery, lastResetQuery } from '../src/throttle.js';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { newSecret } from './support/helpers.js';

const NOW = new Date('2030-06-15T10:37:00.000Z');
const HOUR = 3_600_000;
/** Both dialects accept ISO 8601 UTC (what auth-kit writes). */
const toDbTimeForTests = (d: Date) => d.toISOString();
const ago = (ms: number) => new Date(NOW.getTime() - ms);

function makeAuth(db: Kysely<any>, settings: Partial<SettingsInput> = {}): Auth {
  return createAuth({ db, settings: { jwtSecretKey: newSecret(), ...settings }, clock: () => NOW });
}

/** The 24 hour starts (oldest first, ending with NOW's hour) and a JS bucketing of `times`, independent of the SQL. */
function expectedBuckets(times: Date[]) {
  const current = Math.floor(NOW.getTime() / HOUR) * HOUR;
  return Array.from({ length: 24 }, (_, i) => {
    const start = current - (23 - i) * HOUR;
    return { hour: new Date(start).toISOString(), count: times.filter((t) => t.getTime() >= start && t.getTime() < start + HOUR).length };
  });
}

async function insertUsers(db: Kysely<any>, rows: { email: string; active: boolean }[]) {
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insertInto('auth_users')
      .values(
        rows.slice(i, i + 1000).map((r, k) => ({
          email: r.email,
          full_name: null,
          is_active: r.active ? 1 : 0,
          hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
          token_version: 0,
          created_at: toDbTimeForTests(ago((i + k) * 1000)),
        })),
      )
      .execute();
  }
}

async function insertEvents(db: Kysely<any>, rows: { type: string; email: string | null; at: Date; userId?: number | null }[]) {
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insertInto('auth_events')
      .values(
        rows.slice(i, i + 1000).map((r) => ({
          type: r.type,
          user_id: r.userId ?? null,
          email: r.email,
          client_address: '203.0.113.9',
          client_key: '203.0.113.9',
          user_agent: 'test',
          created_at: toDbTimeForTests(r.at),
        })),
      )
      .execute();
  }
}

async function explain(db: Kysely<any>, dialect: 'sqlite' | 'postgres', query: { compile(): CompiledQuery }): Promise<string> {
  const compiled = query.compile();
  if (dialect === 'sqlite') {
    const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
    return result.rows.map((r) => r.detail).join('\n');
  }
  const result = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
    CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]),
  );
  const lines: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    lines.push(`${node['Node Type']} on ${node['Relation Name'] ?? '-'} using ${node['Index Name'] ?? '-'}`);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = result.rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[];
  walk(plan[0].Plan);
  return lines.join('\n');
}

describeEachDialect('auth status', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('is healthy with the default configuration, migrated, empty', async () => {
    await migrate(t.db);
    const status = await getAuthStatus(makeAuth(t.db));
    expect(status).toEqual({
      name: 'auth',
      status: 'healthy',
      message: 'All checks passed',
      checkedAt: NOW.toISOString(),
      responseTimeMs: expect.any(Number),
      metadata: {
        totalUsers: 0,
        activeUsers: 0,
        failedLogins24h: 0,
        activeSessions: 0,
        tokenValidation: 'ok',
        securityFeatures: [
          'argon2id m=19456,t=2,p=1',
          'lockout 5/15m',
          'growing retry delay',
          '100 consecutive failures cap',
          'token revocation',
          'refresh token rotation',
          'reuse detection',
          'event log',
        ],
        avgTokenLifetime: '30m',
        jwtAlgorithm: 'HS256',
        database: t.dialect,
        configurationIssues: [],
        failedLoginsByHour: expectedBuckets([]),
      },
    });
    expect(status.responseTimeMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
  });

  it('reports every metric as the database holds it after a scripted sequence', async () => {
    await migrate(t.db);
    await insertUsers(t.db, [
      { email: 'ada@example.com', active: true },
      { email: 'bob@example.com', active: true },
      { email: 'cy@example.com', active: false },
      { email: 'dee@example.com', active: true },
      { email: 'eve@example.com', active: false },
      { email: 'fay@example.com', active: true },
      { email: 'gus@example.com', active: true },
    ]);
    const ids = (await t.db.selectFrom('auth_users').select(['id', 'email']).orderBy('id').execute()).map((r) => Number(r.id));

    const failedTimes = [
      ago(60_000), // this hour
      ago(30 * 60_000), // this hour (10:07)
      ago(50 * 60_000), // 09:47
      ago(3 * HOUR + 10 * 60_000),
      ago(3 * HOUR + 11 * 60_000),
      ago(3 * HOUR + 12 * 60_000),
      ago(23 * HOUR + 30 * 60_000), // 11:07 yesterday: the oldest bucket
      ago(23 * HOUR + 50 * 60_000), // 10:47 yesterday: in the last 24 h, before the first bucket
      ago(25 * HOUR), // too old
      ago(72 * HOUR), // too old
    ];
    await insertEvents(t.db, [
      ...failedTimes.map((at, i) => ({ type: 'login_failed', email: i % 2 ? 'ada@example.com' : 'ghost@example.com', at })),
      { type: 'login_succeeded', email: 'ada@example.com', at: ago(5 * 60_000), userId: ids[0] },
      { type: 'user_registered', email: 'gus@example.com', at: ago(2 * HOUR), userId: ids[6] },
      { type: 'login_throttled', email: 'ghost@example.com', at: ago(2 * HOUR) },
      { type: 'token_refreshed', email: null, at: ago(HOUR), userId: ids[1] },
    ]);
    const session = (userId: number, over: Record<string, string | null>) => ({
      id: randomBytes(16).toString('base64url'),
      user_id: userId,
      family_id: randomBytes(16).toString('base64url'),
      token_hash: randomBytes(32).toString('hex'),
      token_version: 0,
      created_at: toDbTimeForTests(ago(2 * HOUR)),
      last_used_at: null,
      expires_at: toDbTimeForTests(new Date(NOW.getTime() + 14 * 24 * HOUR)),
      used_at: null,
      revoked_at: null,
      client_address: null,
      user_agent: null,
      ...over,
    });
    await t.db
      .insertInto('auth_sessions')
      .values([
        session(ids[0], {}), // active
        session(ids[1], {}), // active
        session(ids[1], { last_used_at: toDbTimeForTests(ago(HOUR)) }), // active, refreshed before
        session(ids[0], { used_at: toDbTimeForTests(ago(HOUR)) }), // spent by a rotation
        session(ids[3], { revoked_at: toDbTimeForTests(ago(HOUR)) }), // logged out
        session(ids[5], { expires_at: toDbTimeForTests(ago(1)) }), // expired
        session(ids[6], { expires_at: toDbTimeForTests(NOW) }), // expires exactly now: not active
      ])
      .execute();

    const status = await getAuthStatus(makeAuth(t.db));
    expect(status.status).toBe('healthy');

    // Expected values, computed in JS from what was inserted...
    const inLast24h = failedTimes.filter((d) => d.getTime() >= NOW.getTime() - 24 * HOUR);
    const expected = {
      totalUsers: 7,
      activeUsers: 5,
      failedLogins24h: inLast24h.length,
      activeSessions: 3,
      failedLoginsByHour: expectedBuckets(failedTimes),
    };
    expect(expected.failedLogins24h).toBe(8);
    expect(expected.failedLoginsByHour.map((b) => b.count).reduce((a, b) => a + b)).toBe(7);
    expect(expected.failedLoginsByHour.at(-1)).toEqual({ hour: '2030-06-15T10:00:00.000Z', count: 2 });
    expect(expected.failedLoginsByHour[0]).toEqual({ hour: '2030-06-14T11:00:00.000Z', count: 1 });
    expect(status.metadata).toMatchObject(expected);

    // ...and cross-checked with plain queries of the rows.
    const users = await t.db.selectFrom('auth_users').select(['is_active']).execute();
    expect(status.metadata.totalUsers).toBe(users.length);
    expect(status.metadata.activeUsers).toBe(users.filter((u) => u.is_active === true || u.is_active === 1).length);
    const sessions = await t.db.selectFrom('auth_sessions').selectAll().execute();
    const live = sessions.filter((s) => s.used_at === null && s.revoked_at === null && new Date(s.expires_at) > NOW);
    expect(status.metadata.activeSessions).toBe(live.length);
    const failed = await t.db.selectFrom('auth_events').select('created_at').where('type', '=', 'login_failed').execute();
    expect(status.metadata.failedLogins24h).toBe(failed.filter((e) => new Date(e.created_at) >= ago(24 * HOUR)).length);
  });

  it('warns, without throwing, when an auth-kit migration is pending', async () => {
    const { rows } =
      t.dialect === 'postgres' ? await sql<{ s: string }>`select current_schema() as s`.execute(t.db) : { rows: [] as { s: string }[] };
    const migrator = new Migrator({
      db: t.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      migrationTableSchema: rows[0]?.s,
    });
    const names = Object.keys(migrations).sort();
    const last = names.at(-1)!;
    const previous = names.at(-2)!;
    expect(last).toBe('0003_create_auth_events');
    const { error } = await migrator.migrateTo(previous);
    expect(error).toBeUndefined();

    const status = await getAuthStatus(makeAuth(t.db));
    expect(status.status).toBe('warning');
    expect(status.metadata.configurationIssues).toEqual([
      expect.stringMatching(/^1 auth-kit migration pending \(0003_create_auth_events\): run migrate/),
      'Table auth_events missing: run migrate(db)',
    ]);
    expect(status.message).toBe('Working, with 2 configuration issues');
    expect(status.metadata).toMatchObject({
      totalUsers: 0,
      activeUsers: 0,
      activeSessions: 0,
      failedLogins24h: null,
      failedLoginsByHour: [],
      tokenValidation: 'ok',
    });
    expect(status.metadata.securityFeatures).not.toContain('event log');

    await migrate(t.db);
    expect((await getAuthStatus(makeAuth(t.db))).status).toBe('healthy');
  });

  it('warns on an empty database (nothing migrated) with null counts', async () => {
    const status = await getAuthStatus(makeAuth(t.db));
    expect(status.status).toBe('warning');
    expect(status.metadata.configurationIssues[0]).toMatch(/^3 auth-kit migrations pending/);
    expect(status.metadata.configurationIssues[1]).toBe('Tables auth_users, auth_events, auth_sessions missing: run migrate(db)');
    expect(status.metadata).toMatchObject({ totalUsers: null, activeUsers: null, failedLogins24h: null, activeSessions: null });
  });

  it('warns when the lockout is disabled or access tokens live over 24 hours', async () => {
    await migrate(t.db);
    const noLockout = await getAuthStatus(makeAuth(t.db, { maxFailedLogins: 0 }));
    expect(noLockout.status).toBe('warning');
    expect(noLockout.metadata.configurationIssues).toEqual([expect.stringContaining('AUTH_MAX_FAILED_LOGINS=0')]);
    expect(noLockout.message).toBe('Working, with 1 configuration issue');
    expect(noLockout.metadata.securityFeatures).not.toContain('lockout 5/15m');
    expect(noLockout.metadata.securityFeatures).toContain('100 consecutive failures cap');

    const longTokens = await getAuthStatus(makeAuth(t.db, { accessTokenExpireMinutes: 24 * 60 + 1 }));
    expect(longTokens.status).toBe('warning');
    expect(longTokens.metadata.avgTokenLifetime).toBe('1d1m');
    expect(longTokens.metadata.configurationIssues).toEqual([expect.stringContaining('over 24 hours')]);

    const day = await getAuthStatus(makeAuth(t.db, { accessTokenExpireMinutes: 24 * 60 }));
    expect(day.status).toBe('healthy');
    expect(day.metadata.avgTokenLifetime).toBe('1d');

    const custom = await getAuthStatus(
      makeAuth(t.db, { maxFailedLogins: 10, lockoutWindowMinutes: 60, maxFailedLoginsPerAddress: 50, jwtAlgorithm: 'HS512', jwtSecretKey: newSecret(64) }),
    );
    expect(custom.status).toBe('healthy');
    expect(custom.metadata.securityFeatures).toEqual(expect.arrayContaining(['lockout 10/1h', 'address limit 50/1h']));
    expect(custom.metadata.jwtAlgorithm).toBe('HS512');
  });

  it('is unhealthy when the token self-test fails', async () => {
    await migrate(t.db);
    const auth = makeAuth(t.db);
    const otherKey = createTokenService({ jwtSecretKey: newSecret() });
    const broken = { ...auth, tokens: { ...auth.tokens, verifyAccessToken: otherKey.verifyAccessToken } };
    const status = await getAuthStatus(broken);
    expect(status.status).toBe('unhealthy');
    expect(status.message).toBe('Token self-test failed: The token signature is invalid');
    expect(status.metadata.tokenValidation).toBe('failed');
    expect(status.metadata.totalUsers).toBe(0);
  });
});

describe('auth status with an unreachable database', () => {
  it('SQLite file in a missing directory: unhealthy with the reason, no throw', async () => {
    const db = openDatabase(`sqlite:////nonexistent-${randomBytes(4).toString('hex')}/app.db`);
    try {
      const status = await getAuthStatus(makeAuth(db));
      expect(status.status).toBe('unhealthy');
      expect(status.message).toMatch(/^Database unreachable: .*(directory does not exist|unable to open)/i);
      expect(status.metadata).toMatchObject({ database: 'sqlite', totalUsers: null, failedLoginsByHour: [], tokenValidation: 'ok' });
    } finally {
      await db.destroy().catch(() => undefined);
    }
  });

  it('PostgreSQL refusing connections: unhealthy, the password never in the message', async () => {
    const db = openDatabase('postgres://app:Sup3rSecretPw@127.0.0.1:1/app');
    try {
      const status = await getAuthStatus(makeAuth(db));
      expect(status.status).toBe('unhealthy');
      expect(status.message).toMatch(/^Database unreachable: .*ECONNREFUSED/);
      expect(JSON.stringify(status)).not.toContain('Sup3rSecretPw');
      expect(status.metadata.database).toBe('postgres');
    } finally {
      await db.destroy().catch(() => undefined);
    }
  });

  it('PostgreSQL that accepts but never answers: unhealthy after the timeout', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const db = openDatabase(`postgres://app@127.0.0.1:${port}/app`);
    try {
      const status = await getAuthStatus(makeAuth(db), { timeoutMs: 300 });
      expect(status.status).toBe('unhealthy');
      expect(status.message).toBe('Database unreachable: the database did not answer within 300 ms');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy().catch(() => undefined);
    }
  });
});

describe('status card HTML', () => {
  const hostile = '<script>alert("x")</script>&\'';
  const status: AuthStatus = {
    name: 'auth',
    status: 'warning',
    message: `Working ${hostile}`,
    checkedAt: NOW.toISOString(),
    responseTimeMs: 4.2,
    metadata: {
      totalUsers: 104233,
      activeUsers: null,
      failedLogins24h: 3,
      activeSessions: 0,
      tokenValidation: 'ok',
      securityFeatures: ['argon2id m=19456,t=2,p=1', hostile],
      avgTokenLifetime: '30m',
      jwtAlgorithm: 'HS256',
      database: 'postgres',
      configurationIssues: [`issue ${hostile}`],
      failedLoginsByHour: expectedBuckets([ago(60_000), ago(60_000), ago(5 * HOUR)]),
    },
  };

  it('escapes every value and carries no script, no external asset', () => {
    const html = renderAuthCard(status);
    expect(html).not.toContain('<script>');
    expect(html).not.toMatch(/\b(src|href)=|url\(|@import|https?:\/\//i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(html.match(/<rect /g)).toHaveLength(24);
    expect(html).toContain('data-metric="totalUsers" data-value="104233">104,233<');
    expect(html).toContain('data-metric="activeUsers" data-value="">—<');
    expect(html).toContain('class="akc akc--warning"');
    expect(html).toContain('<title id="akc-chart-title">Failed logins per hour, last 24 hours (UTC)</title>');
    expect(html).toContain('10:00–11:00 UTC: 2 failed logins (this hour so far)');
    // Every selector of the inline CSS is scoped to the card class.
    const css = /<style>(.*?)<\/style>/s.exec(html)![1].replace(/@media[^{]*\{/g, '');
    const selectors = css.match(/(^|})([^{}@]+)\{/g)!.map((m) => m.replace(/^}/, '').replace(/\{$/, '').trim());
    expect(selectors.length).toBeGreaterThan(20);
    for (const selector of selectors.flatMap((x) => x.split(','))) expect(selector.trim()).toMatch(/^\.akc\b/);
  });

  it('falls back to unhealthy for an unknown status and renders a full page around the card', () => {
    const odd = renderAuthCard({ ...status, status: 'bogus' as never }, { idPrefix: 'x"y' });
    expect(odd).toContain('class="akc akc--unhealthy"');
    expect(odd).toContain('id="akc-title"');
    const page = renderAuthDashboard(status, { refreshSeconds: 30 });
    expect(page.startsWith('<!doctype html><html lang="en"><head><meta charset="utf-8">')).toBe(true);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<meta http-equiv="refresh" content="30">');
    expect(page).toContain('<title>Auth status · Warning</title>');
    expect(page).toContain(renderAuthCard(status));
  });
});

describe('formatMinutes', () => {
  it('formats lifetimes compactly', () => {
    expect([1, 30, 60, 90, 1440, 1441, 2880 + 120].map(formatMinutes)).toEqual(['1m', '30m', '1h', '1h30m', '1d', '1d1m', '2d2h']);
  });
});

describeEachDialect('auth status on large tables', (dialect) => {
  it('counts 100k users and 100k events correctly, with index-driven event queries', async () => {
    const t = await dialect.open();
    try {
      await migrate(t.db);
      const N = 100_000;
      await t.db.transaction().execute(async (trx) => {
        await insertUsers(trx, Array.from({ length: N }, (_, i) => ({ email: `user${i}@example.com`, active: i % 10 !== 0 })));
      });
      // 100k events over 90 days: mostly successes and refreshes, 8% failures.
      const types = ['login_succeeded', 'token_refreshed', 'login_succeeded', 'login_succeeded', 'token_refreshed'];
      const events = Array.from({ length: N }, (_, i) => ({
        type: i % 25 < 2 ? 'login_failed' : i % 25 === 2 ? 'logout' : types[i % 5],
        email: `user${(i * 7919) % N}@example.com`,
        at: ago(((i * 7_777_777) % (90 * 24 * HOUR)) + (i % 1000)),
      }));
      await t.db.transaction().execute(async (trx) => insertEvents(trx, events));
      if (t.dialect === 'postgres') await sql`analyze`.execute(t.db);

      const status = await getAuthStatus(makeAuth(t.db));
      const failedTimes = events.filter((e) => e.type === 'login_failed').map((e) => e.at);
      expect(status.status).toBe('healthy');
      expect(status.metadata.totalUsers).toBe(N);
      expect(status.metadata.activeUsers).toBe(N - N / 10);
      const in24h = failedTimes.filter((d) => d.getTime() >= NOW.getTime() - 24 * HOUR).length;
      expect(in24h).toBeGreaterThan(0);
      expect(status.metadata.failedLogins24h).toBe(in24h);
      expect(status.metadata.failedLoginsByHour).toEqual(expectedBuckets(failedTimes));

      // The time-windowed queries read an index range, never the whole events table.
      const q = statusQueries(t.db, t.dialect, NOW);
      const plans = {
        failed24h: await explain(t.db, t.dialect, q.failed24h),
        failedByHour: await explain(t.db, t.dialect, q.failedByHour),
        lastReset: await explain(t.db, t.dialect, lastResetQuery(t.db, 'user42@example.com')),
        failures: await explain(t.db, t.dialect, failuresQuery(t.db, 'user42@example.com', ago(15 * 60_000), ago(HOUR))),
        users: await explain(t.db, t.dialect, q.users),
      };
      if (process.env.AUTH_KIT_DEBUG_PLANS) console.log(t.dialect, status.responseTimeMs, JSON.stringify(plans, null, 1));
      expect(plans.failed24h).toContain('auth_events_type_created_at_idx');
      expect(plans.failedByHour).toContain('auth_events_type_created_at_idx');
      expect(plans.lastReset).toContain('auth_events_email_type_created_at_idx');
      expect(plans.failures).toContain('auth_events_email_type_created_at_idx');
      for (const plan of [plans.failed24h, plans.failedByHour, plans.lastReset, plans.failures]) {
        // SQLite: SEARCH (an index range), never SCAN (the table or a whole index); PostgreSQL: no Seq Scan.
        expect(plan).not.toMatch(/^SCAN auth_events|Seq Scan on auth_events/m);
        expect(plan).toMatch(/auth_events_\w+_idx/);
      }
      // The user counts have no predicate: one pass over auth_users, no more.
      expect(plans.users.split('\n').filter((line) => /auth_users/.test(line))).toHaveLength(1);
    } finally {
      await t.cleanup();
    }
  }, 240_000);
});

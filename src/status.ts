/**
 * The auth status for dashboards: real counts from the database, a token self-test, the security
 * features actually enabled and the configuration issues — in the shape a health page shows.
 */
import { performance } from 'node:perf_hooks';
import { type Kysely, sql } from 'kysely';
import type { Auth } from './auth.js';
import { type DialectName, dialectOf, toDbTime } from './database/dialect.js';
import { getMigrationStatus } from './database/migrate.js';
import { maskDatabaseUrl } from './database/open.js';
import { MAX_CONSECUTIVE_FAILED_LOGINS } from './throttle.js';

/** `healthy`: all good; `warning`: working, with configuration issues; `unhealthy`: not working. */
export type AuthHealth = 'healthy' | 'warning' | 'unhealthy';

/** Failed logins in one clock hour (UTC). */
export interface HourlyCount {
  /** The start of the hour, ISO 8601 UTC (`2025-01-31T14:00:00.000Z`). */
  readonly hour: string;
  readonly count: number;
}

/** The metrics of {@link AuthStatus}. A count is null when it could not be computed (see `configurationIssues`). */
export interface AuthStatusMetadata {
  /** Rows in `auth_users`. */
  readonly totalUsers: number | null;
  /** Users with `is_active`. */
  readonly activeUsers: number | null;
  /** `login_failed` events in the last 24 hours (rolling). */
  readonly failedLogins24h: number | null;
  /** Live refresh-token sessions: not used, not revoked, not expired (one per live login family). */
  readonly activeSessions: number | null;
  /** `ok` when an access token signed now verifies with the configured key and algorithm. */
  readonly tokenValidation: 'ok' | 'failed';
  /** The protections actually enabled, e.g. `argon2id m=19456,t=2,p=1`, `lockout 5/15m`. */
  readonly securityFeatures: readonly string[];
  /** The access-token lifetime from the settings, e.g. `30m`, `1h`, `1d12h`. */
  readonly avgTokenLifetime: string;
  readonly jwtAlgorithm: string;
  readonly database: DialectName | 'unknown';
  /** Why the status is not `healthy` (empty when it is). */
  readonly configurationIssues: readonly string[];
  /** 24 hourly buckets of `login_failed` events, oldest first, the last one the current hour; empty when unknown. */
  readonly failedLoginsByHour: readonly HourlyCount[];
}

/** The answer of {@link getAuthStatus}; JSON-ready. */
export interface AuthStatus {
  readonly name: 'auth';
  readonly status: AuthHealth;
  /** One line for people, e.g. `All checks passed`. */
  readonly message: string;
  /** When the check ran (the auth clock), ISO 8601. */
  readonly checkedAt: string;
  /** How long the check took, in milliseconds. */
  readonly responseTimeMs: number;
  readonly metadata: AuthStatusMetadata;
}

/** What {@link getAuthStatus} reads from an auth instance (the object `createAuth` returns fits). */
export type AuthStatusSource = Pick<Auth, 'db' | 'settings' | 'tokens' | 'clock' | 'passwords'>;

/** Options of {@link getAuthStatus}. */
export interface AuthStatusOptions {
  /** A database that does not answer within this many milliseconds is `unhealthy`. Default 5000. */
  readonly timeoutMs?: number;
}

/** Access tokens living longer than this (minutes) are reported as a configuration issue. */
export const MAX_RECOMMENDED_ACCESS_TOKEN_MINUTES = 24 * 60;

const HOUR_MS = 3_600_000;

class Timeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`the database did not answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A short reason safe to show: no connection-string password, no multi-line driver dumps. */
function reasonOf(err: unknown): string {
  const raw = err instanceof Error ? err.message || err.name : String(err);
  const code = (err as { code?: unknown })?.code;
  const text = maskDatabaseUrl(raw.split('\n')[0]).slice(0, 200);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text || 'unknown error';
}

function isMissingTable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '42P01' || (err instanceof Error && /no such table/i.test(err.message));
}

/**
 * Formats a lifetime in minutes compactly.
 *
 * @example
 * ```ts
 * formatMinutes(30);   // "30m"
 * formatMinutes(90);   // "1h30m"
 * formatMinutes(2880); // "2d"
 * ```
 */
export function formatMinutes(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', mins ? `${mins}m` : ''].join('');
  return parts || '0m';
}

/** The 24 hour starts (ms), oldest first, the last one the hour containing `now`. */
function hourStarts(now: Date): number[] {
  const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return Array.from({ length: 24 }, (_, i) => current - (23 - i) * HOUR_MS);
}

interface Counted<T> {
  readonly value: T | null;
  readonly missing: boolean;
}

/** Runs a metric query; a missing table (migration pending) gives null instead of an error. */
async function metric<T>(query: () => Promise<T>): Promise<Counted<T>> {
  try {
    return { value: await query(), missing: false };
  } catch (err) {
    if (isMissingTable(err)) return { value: null, missing: true };
    throw err;
  }
}

/**
 * Internal: the SQL of each metric, shared with the tests that EXPLAIN them.
 *
 * @example
 * ```ts
 * const { sql } = statusQueries(db, 'postgres', new Date()).failed24h.compile();
 * ```
 */
export function statusQueries(db: Kysely<any>, dialect: DialectName, now: Date) {
  const since24h = toDbTime(new Date(now.getTime() - 24 * HOUR_MS));
  const firstHour = toDbTime(new Date(hourStarts(now)[0]));
  const bucket =
    dialect === 'postgres'
      ? sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24')`
      : sql<string>`substr(created_at, 1, 13)`;
  return {
    users: db
      .selectFrom('auth_users')
      .select([
        sql<number | string | bigint>`count(*)`.as('total'),
        sql<number | string | bigint | null>`sum(case when is_active then 1 else 0 end)`.as('active'),
      ]),
    failed24h: db
      .selectFrom('auth_events')
      .select(sql<number | string | bigint>`count(*)`.as('n'))
      .where('type', '=', 'login_failed')
      .where('created_at', '>=', since24h),
    failedByHour: db
      .selectFrom('auth_events')
      .select([bucket.as('hour'), sql<number | string | bigint>`count(*)`.as('n')])
      .where('type', '=', 'login_failed')
      .where('created_at', '>=', firstHour)
      .groupBy(bucket),
    activeSessions: db
      .selectFrom('auth_sessions')
      .select(sql<number | string | bigint>`count(*)`.as('n'))
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', toDbTime(now)),
  };
}

async function tokenSelfTest(tokens: AuthStatusSource['tokens']): Promise<string | null> {
  try {
    const { accessToken } = await tokens.createAccessToken({ id: 1, tokenVersion: 0 });
    const claims = await tokens.verifyAccessToken(accessToken);
    return claims.sub === '1' ? null : 'the verified subject differs';
  } catch (err) {
    return err instanceof Error ? err.message : 'unknown error';
  }
}

/**
 * Checks auth-kit end to end and returns a dashboard-ready status; never throws.
 *
 * - `unhealthy`: the database cannot be reached or queried (the reason is in `message`), or the
 *   token self-test fails.
 * - `warning`: working, with reasons in `metadata.configurationIssues`: auth-kit migrations
 *   pending, the lockout disabled (`maxFailedLogins` 0), access tokens living over 24 hours, a
 *   table missing.
 * - `healthy`: otherwise (the default configuration, migrated).
 *
 * Cheap on large tables: the event and session counts are index range scans over the last 24
 * hours; the user counts are one pass over `auth_users`.
 *
 * @example
 * ```ts
 * const status = await getAuthStatus(auth);
 * if (status.status !== 'healthy') console.warn(status.message, status.metadata.configurationIssues);
 * ```
 */
export async function getAuthStatus(auth: AuthStatusSource, options: AuthStatusOptions = {}): Promise<AuthStatus> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  const settings = auth.settings;
  const now = auth.clock();
  const issues: string[] = [];
  const params = auth.passwords.params;
  const features: string[] = [`argon2id m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}`];
  if (settings.maxFailedLogins > 0) {
    features.push(`lockout ${settings.maxFailedLogins}/${formatMinutes(settings.lockoutWindowMinutes)}`, 'growing retry delay');
  } else {
    issues.push(
      `Account lockout is disabled (AUTH_MAX_FAILED_LOGINS=0): only the cap of ${MAX_CONSECUTIVE_FAILED_LOGINS} consecutive failures limits password guessing`,
    );
  }
  features.push(`${MAX_CONSECUTIVE_FAILED_LOGINS} consecutive failures cap`);
  if (settings.maxFailedLoginsPerAddress > 0) {
    features.push(`address limit ${settings.maxFailedLoginsPerAddress}/${formatMinutes(settings.lockoutWindowMinutes)}`);
  }
  if (settings.maxRegistrationsPerAddress > 0) {
    features.push(`registration limit ${settings.maxRegistrationsPerAddress}/${formatMinutes(settings.lockoutWindowMinutes)}`);
  }
  features.push('token revocation');
  if (settings.accessTokenExpireMinutes > MAX_RECOMMENDED_ACCESS_TOKEN_MINUTES) {
    issues.push(
      `Access tokens live ${formatMinutes(settings.accessTokenExpireMinutes)} (JWT_ACCESS_TOKEN_EXPIRE_MINUTES), over 24 hours: a stolen token stays usable that long`,
    );
  }

  const metadata = {
    totalUsers: null as number | null,
    activeUsers: null as number | null,
    failedLogins24h: null as number | null,
    activeSessions: null as number | null,
    tokenValidation: 'failed' as 'ok' | 'failed',
    securityFeatures: features,
    avgTokenLifetime: formatMinutes(settings.accessTokenExpireMinutes),
    jwtAlgorithm: settings.jwtAlgorithm,
    database: 'unknown' as DialectName | 'unknown',
    configurationIssues: issues,
    failedLoginsByHour: [] as HourlyCount[],
  };
  // The self-test needs no database: it runs alongside the queries and is reported in every case.
  const tokenProblem = tokenSelfTest(auth.tokens);
  const finish = async (status: AuthHealth, message: string): Promise<AuthStatus> => {
    const tokenError = await tokenProblem;
    metadata.tokenValidation = tokenError === null ? 'ok' : 'failed';
    if (tokenError !== null && status !== 'unhealthy') {
      status = 'unhealthy';
      message = `Token self-test failed: ${tokenError}`;
    }
    return {
      name: 'auth',
      status,
      message,
      checkedAt: now.toISOString(),
      responseTimeMs: Math.round((performance.now() - started) * 10) / 10,
      metadata,
    };
  };

  const db = auth.db;
  let dialect: DialectName;
  try {
    dialect = dialectOf(db);
  } catch (err) {
    return finish('unhealthy', `Unsupported database: ${reasonOf(err)}`);
  }
  metadata.database = dialect;

  try {
    await withTimeout(sql`select 1`.execute(db), timeoutMs);
  } catch (err) {
    return finish('unhealthy', `Database unreachable: ${reasonOf(err)}`);
  }

  const q = statusQueries(db, dialect, now);
  try {
    const [migrations, users, failed24h, byHour, sessions] = await withTimeout(
      Promise.all([
        getMigrationStatus(db),
        metric(() => q.users.executeTakeFirstOrThrow()),
        metric(() => q.failed24h.executeTakeFirstOrThrow()),
        metric(() => q.failedByHour.execute()),
        metric(() => q.activeSessions.executeTakeFirstOrThrow()),
      ]),
      timeoutMs,
    );
    if (migrations.pending.length > 0) {
      issues.unshift(
        `${migrations.pending.length} auth-kit migration${migrations.pending.length === 1 ? '' : 's'} pending ` +
          `(${migrations.pending.join(', ')}): run migrate(db) or \`auth-kit migrate\``,
      );
    }
    const missing = [
      users.missing && 'auth_users',
      (failed24h.missing || byHour.missing) && 'auth_events',
      sessions.missing && 'auth_sessions',
    ].filter((name): name is string => typeof name === 'string');
    if (missing.length > 0) {
      issues.push(`Table${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing: run migrate(db)`);
    }
    if (users.value) {
      metadata.totalUsers = Number(users.value.total);
      metadata.activeUsers = Number(users.value.active ?? 0);
    }
    if (failed24h.value) metadata.failedLogins24h = Number(failed24h.value.n);
    if (byHour.value) {
      const counts = new Map(byHour.value.map((row) => [row.hour, Number(row.n)]));
      metadata.failedLoginsByHour = hourStarts(now).map((start) => {
        const hour = new Date(start).toISOString();
        return { hour, count: counts.get(hour.slice(0, 13)) ?? 0 };
      });
    }
    if (sessions.value) {
      metadata.activeSessions = Number(sessions.value.n);
      features.push('refresh token rotation', 'reuse detection');
    }
    if (!failed24h.missing) features.push('event log');
  } catch (err) {
    return finish('unhealthy', err instanceof Timeout ? `Database unreachable: ${err.message}` : `Database query failed: ${reasonOf(err)}`);
  }

  if (issues.length > 0) {
    return finish('warning', `Working, with ${issues.length} configuration issue${issues.length === 1 ? '' : 's'}`);
  }
  return finish('healthy', 'All checks passed');
}

/**
 * Brute-force defence (S18), decided from the event log in the database — never from process
 * memory — so several app processes on one PostgreSQL count the same failures (DESIGN rule 5).
 *
 * Per account (keyed on the normalised email, so an unknown email is treated exactly like a known
 * one): after `maxFailedLogins` failures within the window, each further attempt must wait a delay
 * after the last failure, doubling with every further failure (1 s, 2 s, 4 s … capped at the
 * window). Independently, 100 consecutive failures since the last success lock the email until a
 * success elsewhere (a password reset) or an administrator clears it (NIST SP 800-63B 5.2.2).
 */
import type { Kysely } from 'kysely';
import { clientAddressKey } from './client-address.js';
import { fromDbTime, toDbTime } from './database/dialect.js';
import { prepareQuery } from './database/prepared.js';
import type { AuthKitDatabase } from './database/types.js';
import { AuthKitError } from './errors.js';
import { type AuthEvent, type AuthEventType, type RecordEventOptions, recordEvent } from './events.js';
import { normalizeEmail } from './schemas.js';

/** Consecutive failed logins (since the last success, whatever their age) after which an email is locked. */
export const MAX_CONSECUTIVE_FAILED_LOGINS = 100;

/**
 * The events that clear an email's failure count: a successful login, a password reset or change,
 * a (new) registration of the email, and an administrator's {@link clearLoginFailures}.
 */
export const LOCKOUT_RESET_EVENT_TYPES: readonly AuthEventType[] = Object.freeze([
  'login_succeeded',
  'password_reset',
  'password_changed',
  'user_registered',
  'lockout_cleared',
] as const);

/** The answer of {@link checkLoginAllowed} and {@link checkAddressAllowed}. */
export type AttemptAllowance =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Whole seconds (≥ 1) until an attempt can be accepted; the HTTP `Retry-After`. */
      readonly retryAfterSeconds: number;
      /**
       * `too_many_failures`: the growing delay after `maxFailedLogins` failures in the window;
       * `consecutive_limit`: 100 consecutive failures, locked until a password reset or an admin clears it;
       * `address_limit`: the per-address limit.
       */
      readonly reason: 'too_many_failures' | 'consecutive_limit' | 'address_limit';
    };

/** Options of {@link checkLoginAllowed}. */
export interface LoginThrottleOptions {
  /** The current time (from the auth clock). Default: now. */
  readonly now?: Date;
  /** Failures in the window before the delay starts; 0 disables it (the 100-consecutive cap stays). */
  readonly maxFailedLogins: number;
  /** The window in minutes; also the longest delay. */
  readonly windowMinutes: number;
}

function asDb(db: Kysely<any>): Kysely<AuthKitDatabase> {
  return db as Kysely<AuthKitDatabase>;
}

function checkNumber(value: unknown, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new AuthKitError('configuration_error', `${name} must be an integer ≥ ${min}`);
  }
  return value as number;
}

/**
 * The delay, in seconds, before the next attempt after `failuresInWindow` recent failures:
 * 0 below `maxFailedLogins`, then 2^(failures − max) seconds, capped at the window.
 *
 * @example
 * ```ts
 * lockoutDelaySeconds(5, 5, 15);  // 1
 * lockoutDelaySeconds(8, 5, 15);  // 8
 * lockoutDelaySeconds(30, 5, 15); // 900 (the window)
 * ```
 */
export function lockoutDelaySeconds(failuresInWindow: number, maxFailedLogins: number, windowMinutes: number): number {
  if (maxFailedLogins <= 0 || failuresInWindow < maxFailedLogins) return 0;
  const exponent = Math.min(failuresInWindow - maxFailedLogins, 30);
  return Math.min(2 ** exponent, windowMinutes * 60);
}

/**
 * Internal (exported for the EXPLAIN tests): the latest reset event of an email, one index-ordered
 * `max` per reset type rather than an IN list that would scan every success of an active account.
 *
 * @example
 * ```ts
 * const row = await lastResetQuery(db, 'ada@example.com').executeTakeFirstOrThrow(); // { r0: …, r4: … }
 * ```
 */
export function lastResetQuery(db: Kysely<AuthKitDatabase>, email: string) {
  return db.selectNoFrom((eb) =>
    LOCKOUT_RESET_EVENT_TYPES.map((type, i) =>
      eb
        .selectFrom('auth_events')
        .select((inner) => inner.fn.max('created_at').as('at'))
        .where('email', '=', email)
        .where('type', '=', type)
        .as(`r${i}`),
    ),
  );
}

/** Stands in for "no reset yet": every failure is after it. */
const BEFORE_ANY_EVENT = new Date(0);

/** The failures query with its times already in database form, so it can be prepared once. */
function failuresSinceQuery(db: Kysely<AuthKitDatabase>, email: string, windowStart: string, since: string) {
  return db
    .selectFrom('auth_events')
    .select((eb) => [
      eb.fn.countAll<number | string | bigint>().as('total'),
      eb.fn.sum<number | string | null>(eb.case().when('created_at', '>', windowStart).then(1).else(0).end()).as('recent'),
      eb.fn.max<Date | string | null>('created_at').as('last'),
    ])
    .where('email', '=', email)
    .where('type', '=', 'login_failed')
    .where('created_at', '>', since);
}

/**
 * Internal (exported for the EXPLAIN tests): the failures of an email since its last reset.
 *
 * @example
 * ```ts
 * const { total, recent, last } = await failuresQuery(db, email, windowStart, null).executeTakeFirstOrThrow();
 * ```
 */
export function failuresQuery(db: Kysely<AuthKitDatabase>, email: string, windowStart: Date, lastReset: Date | null) {
  return failuresSinceQuery(db, email, toDbTime(windowStart), toDbTime(lastReset ?? BEFORE_ANY_EVENT));
}

// Both run before every password login: built once per handle (see prepareQuery).
const lastResets = prepareQuery(1, lastResetQuery);
const failuresSince = prepareQuery(3, failuresSinceQuery);

/**
 * Decides whether a password login for `email` may be attempted now, from the failures recorded
 * in `auth_events` (`login_failed` after the latest {@link LOCKOUT_RESET_EVENT_TYPES} event of the
 * email). The answer depends only on the email's events, so it is identical for an existing and an
 * unknown account. Call it before verifying the password; on refusal record `login_throttled`
 * (not `login_failed`: refused attempts do not lengthen the delay) and answer `too_many_attempts`.
 *
 * Two index probes (`auth_events (email, type, created_at)`), whatever the table size.
 * Concurrent attempts can each pass before seeing the others' failures, so up to one extra
 * failure per concurrent request is possible; the 100 cap is reached regardless.
 *
 * @example
 * ```ts
 * const verdict = await checkLoginAllowed(db, email, { now: clock(), maxFailedLogins: 5, windowMinutes: 15 });
 * if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterSeconds);
 * ```
 */
export async function checkLoginAllowed(
  db: Kysely<any>,
  email: string,
  options: LoginThrottleOptions,
): Promise<AttemptAllowance> {
  const maxFailedLogins = checkNumber(options.maxFailedLogins, 'maxFailedLogins', 0);
  const windowMinutes = checkNumber(options.windowMinutes, 'windowMinutes', 1);
  const now = options.now ?? new Date();
  const key = normalizeEmail(String(email ?? ''));
  const kdb = asDb(db);

  const resets = (await lastResets(kdb, key)).rows[0];
  if (resets === undefined) throw new Error('auth-kit: the last-reset query returned no row');
  const resetTimes = Object.values(resets as Record<string, Date | string | null>)
    .filter((value): value is Date | string => value !== null)
    .map((value) => fromDbTime(value).getTime());
  const lastReset = resetTimes.length ? new Date(Math.max(...resetTimes)) : BEFORE_ANY_EVENT;
  const windowStart = new Date(now.getTime() - windowMinutes * 60_000);
  const { rows } = await failuresSince(kdb, key, toDbTime(windowStart), toDbTime(lastReset));
  const row = rows[0];
  if (row === undefined) throw new Error('auth-kit: the failed-login count returned no row');
  const total = Number(row.total);
  const recent = Number(row.recent ?? 0);
  const windowSeconds = windowMinutes * 60;

  if (total >= MAX_CONSECUTIVE_FAILED_LOGINS) {
    return { allowed: false, retryAfterSeconds: windowSeconds, reason: 'consecutive_limit' };
  }
  const delay = lockoutDelaySeconds(recent, maxFailedLogins, windowMinutes);
  if (delay === 0 || row.last === null) return { allowed: true };
  const retryAt = fromDbTime(row.last).getTime() + delay * 1000;
  if (now.getTime() >= retryAt) return { allowed: true };
  const seconds = Math.ceil((retryAt - now.getTime()) / 1000);
  // Clamped: another process's clock may run ahead of ours.
  return { allowed: false, retryAfterSeconds: Math.min(Math.max(seconds, 1), delay), reason: 'too_many_failures' };
}

/** Options of {@link checkAddressAllowed}. */
export interface AddressThrottleOptions {
  /** The current time. Default: now. */
  readonly now?: Date;
  /** Events of `type` from one address (IPv6: one /64) allowed within the window; 0 = no limit. */
  readonly limit: number;
  readonly windowMinutes: number;
  /** What is counted: `login_failed` for `/token`, `user_registered` for `/register`. */
  readonly type: AuthEventType;
}

/**
 * The optional per-client-address limit for `/token` and `/register`: refuses once `limit` events
 * of `type` came from the address within the window (IPv6 addresses grouped by /64, IPv4-mapped
 * IPv6 as IPv4, see `clientAddressKey`), until the oldest of them leaves the window. An address
 * that is not an IP (or none) is never limited. Reads at most `limit` index entries.
 *
 * @example
 * ```ts
 * const verdict = await checkAddressAllowed(db, clientAddress,
 *   { now: clock(), limit: 100, windowMinutes: 15, type: 'login_failed' });
 * if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterSeconds);
 * ```
 */
export async function checkAddressAllowed(
  db: Kysely<any>,
  clientAddress: string | null | undefined,
  options: AddressThrottleOptions,
): Promise<AttemptAllowance> {
  const limit = checkNumber(options.limit, 'limit', 0);
  const windowMinutes = checkNumber(options.windowMinutes, 'windowMinutes', 1);
  const key = typeof clientAddress === 'string' ? clientAddressKey(clientAddress) : null;
  if (limit === 0 || key === null) return { allowed: true };
  const now = options.now ?? new Date();
  const windowMs = windowMinutes * 60_000;
  const rows = await asDb(db)
    .selectFrom('auth_events')
    .select('created_at')
    .where('client_key', '=', key)
    .where('type', '=', options.type)
    .where('created_at', '>', toDbTime(new Date(now.getTime() - windowMs)))
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  if (rows.length < limit) return { allowed: true };
  // The limit-th newest must leave the window before the count drops below the limit.
  const leavesAt = fromDbTime(rows[rows.length - 1].created_at).getTime() + windowMs;
  const seconds = Math.ceil((leavesAt - now.getTime()) / 1000);
  return { allowed: false, retryAfterSeconds: Math.min(Math.max(seconds, 1), windowMinutes * 60), reason: 'address_limit' };
}

/**
 * The error for a refused attempt: `too_many_attempts` with `retryAfterSeconds` (the HTTP layer
 * answers 429 with `Retry-After`). The message is the same whatever the reason and whether or not
 * the account exists.
 *
 * @example
 * ```ts
 * if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterSeconds);
 * ```
 */
export function tooManyAttempts(retryAfterSeconds: number): AuthKitError {
  return new AuthKitError('too_many_attempts', 'Too many failed attempts; try again later', { retryAfterSeconds });
}

/**
 * An administrator's reset of an email's failed-login count (including the 100-consecutive lock):
 * records a `lockout_cleared` event, which the next {@link checkLoginAllowed} counts from.
 *
 * @example
 * ```ts
 * await clearLoginFailures(db, 'ada@example.com', { clock: auth.clock });
 * ```
 */
export function clearLoginFailures(db: Kysely<any>, email: string, options: RecordEventOptions = {}): Promise<AuthEvent> {
  return recordEvent(db, { type: 'lockout_cleared', email }, options);
}

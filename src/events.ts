/**
 * The auth event log (S19): what happened, when, to which account and from where — stored in
 * `auth_events`, never with a password or a token. The lockout counts failures from it, the
 * status card counts from it, and the app's `onEvent` hook hears about each event once stored.
 */
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from './clock.js';
import { clientAddressKey, normalizeIpAddress } from './client-address.js';
import { fromDbTime, toDbTime } from './database/dialect.js';
import { prepareQuery } from './database/prepared.js';
import type { AuthKitDatabase } from './database/types.js';
import { AuthKitError } from './errors.js';
import { decodeKeysetCursor, encodeKeysetCursor } from './keyset-cursor.js';
import { normalizeEmail } from './schemas.js';

/** Every event type auth-kit records, in a stable order. */
export const AUTH_EVENT_TYPES = Object.freeze([
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
  'lockout_cleared',
  'password_reset_requested',
  'password_reset_throttled',
] as const);

/**
 * What an event records. `login_failed` (and `login_throttled`) carry the normalised email even
 * for unknown accounts, so guessing at an account that does not exist is counted the same way.
 * `lockout_cleared` is an administrator clearing an account's failed-login count.
 * `password_reset_requested` is a well-formed reset request, with the user id when the email is an
 * account's (a link was mailed if it is active) and the normalised email always;
 * `password_reset_throttled` is one refused because the account already has
 * `maxPasswordResetsPerAccount` links outstanding.
 */
export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/** Fields that must never be part of an event. Typed `never` so that passing one fails to compile. */
export interface ForbiddenEventFields {
  readonly password?: never;
  readonly newPassword?: never;
  readonly currentPassword?: never;
  readonly hashedPassword?: never;
  readonly token?: never;
  readonly accessToken?: never;
  readonly refreshToken?: never;
  readonly resetToken?: never;
  readonly secret?: never;
}

/** The details of an event, besides its type. Every field is optional. */
export interface AuthEventDetails extends ForbiddenEventFields {
  /** The account, when known. */
  readonly userId?: number | null;
  /** The email as typed; stored normalised (trimmed, lower-cased). */
  readonly email?: string | null;
  /** The client address (see `resolveClientAddress`); stored canonicalised. */
  readonly clientAddress?: string | null;
  /** The `User-Agent` header; stored truncated to {@link MAX_USER_AGENT_LENGTH} characters. */
  readonly userAgent?: string | null;
}

/** An event to record: a type and its details. */
export interface AuthEventInput extends AuthEventDetails {
  readonly type: AuthEventType;
}

/** A stored event, as {@link listEvents} returns it and the `onEvent` hook receives it. */
export interface AuthEvent {
  readonly id: number;
  readonly type: AuthEventType;
  readonly userId: number | null;
  readonly email: string | null;
  readonly clientAddress: string | null;
  readonly userAgent: string | null;
  readonly createdAt: Date;
}

/** The app's hook, called after each event is stored. Its failures are logged, never thrown. */
export type AuthEventHook = (event: AuthEvent) => void | Promise<void>;

/** Where a failing hook is reported: a message naming the event type, and the hook's error. */
export type AuthEventLogger = (message: string, error: unknown) => void;

/** Options of {@link recordEvent} and {@link createEventRecorder}. */
export interface RecordEventOptions {
  /** The time source for `createdAt`. Default: the system clock. */
  readonly clock?: Clock;
  /** Called (not awaited) after the event is stored; an exception or rejection is logged. */
  readonly onEvent?: AuthEventHook;
  /** Reports a failing hook. Default: `console.error` with the event type and the error's name only. */
  readonly logger?: AuthEventLogger;
}

/** Longest stored user agent, in characters. */
export const MAX_USER_AGENT_LENGTH = 512;
/** Longest stored email, in characters (longer input is cut, never an error: events must not fail a request). */
export const MAX_EVENT_EMAIL_LENGTH = 320;

const TYPE_SET: ReadonlySet<string> = new Set(AUTH_EVENT_TYPES);

/**
 * True when `value` is one of {@link AUTH_EVENT_TYPES}.
 *
 * @example
 * ```ts
 * isAuthEventType('login_failed'); // true
 * isAuthEventType('password');     // false
 * ```
 */
export function isAuthEventType(value: unknown): value is AuthEventType {
  return typeof value === 'string' && TYPE_SET.has(value);
}

const defaultLogger: AuthEventLogger = (message, error) => {
  const name = error instanceof Error ? error.name : typeof error;
  console.error(`${message} (${name})`);
};

function optionalString(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // Control characters would let a client forge lines in a log that prints the field.
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean === '' ? null : clean.slice(0, max);
}

/**
 * The runtime whitelist: only the known fields are read, each checked, so an object that happens
 * to carry a `password` or a `token` (from a spread request body, say) never stores it.
 */
function sanitize(input: AuthEventInput): {
  type: AuthEventType;
  userId: number | null;
  email: string | null;
  clientAddress: string | null;
  clientKey: string | null;
  userAgent: string | null;
} {
  if (!input || !isAuthEventType(input.type)) {
    throw new AuthKitError('validation_failed', 'Unknown auth event type', {
      issues: [{ path: 'type', message: `Must be one of ${AUTH_EVENT_TYPES.join(', ')}` }],
    });
  }
  const userId = Number.isSafeInteger(input.userId) && (input.userId as number) > 0 ? (input.userId as number) : null;
  const rawEmail = optionalString(input.email, MAX_EVENT_EMAIL_LENGTH);
  const rawAddress = typeof input.clientAddress === 'string' ? input.clientAddress : null;
  // An address that is not an IP (a unix socket path, say) is kept as text, but limits never key on it.
  const clientAddress = rawAddress === null ? null : (normalizeIpAddress(rawAddress) ?? optionalString(rawAddress, 64));
  return {
    type: input.type,
    userId,
    email: rawEmail === null ? null : normalizeEmail(rawEmail),
    clientAddress,
    clientKey: rawAddress === null ? null : clientAddressKey(rawAddress),
    userAgent: optionalString(input.userAgent, MAX_USER_AGENT_LENGTH),
  };
}

function callHook(event: AuthEvent, options: RecordEventOptions): void {
  const { onEvent } = options;
  if (typeof onEvent !== 'function') return;
  const logger = options.logger ?? defaultLogger;
  const report = (error: unknown) => {
    try {
      logger(`auth-kit: the onEvent hook failed for a ${event.type} event`, error);
    } catch {
      // A failing logger must not break the request either.
    }
  };
  try {
    const result = onEvent(Object.freeze({ ...event }));
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, report);
    }
  } catch (error) {
    report(error);
  }
}

function asDb(db: Kysely<any>): Kysely<AuthKitDatabase> {
  return db as Kysely<AuthKitDatabase>;
}

/** Every login writes at least one event: the insert is prepared once per handle. */
const insertEvent = prepareQuery(
  7,
  (
    db: Kysely<any>,
    type: AuthEventType,
    userId: number | null,
    email: string | null,
    clientAddress: string | null,
    clientKey: string | null,
    userAgent: string | null,
    createdAt: string,
  ) =>
    asDb(db)
      .insertInto('auth_events')
      .values({
        type,
        user_id: userId,
        email,
        client_address: clientAddress,
        client_key: clientKey,
        user_agent: userAgent,
        created_at: createdAt,
      })
      .returning('id'),
);

/**
 * Internal: stores one event on `db` (which may be a transaction) without calling the app's hook.
 * Pass the result to {@link announceEvent} once the event is committed. Rejects when the row
 * cannot be stored.
 *
 * @example
 * ```ts
 * const event = await db.transaction().execute((trx) => storeEvent(trx, { type: 'logout', userId }));
 * announceEvent(event, { onEvent });
 * ```
 */
export async function storeEvent(db: Kysely<any>, input: AuthEventInput, clock: Clock = systemClock): Promise<AuthEvent> {
  const clean = sanitize(input);
  const createdAt = clock();
  const { rows } = await insertEvent(
    db,
    clean.type,
    clean.userId,
    clean.email,
    clean.clientAddress,
    clean.clientKey,
    clean.userAgent,
    toDbTime(createdAt),
  );
  const row = rows[0];
  if (row === undefined) throw new Error('auth-kit: storing an event returned no id');
  return Object.freeze({
    id: Number(row.id),
    type: clean.type,
    userId: clean.userId,
    email: clean.email,
    clientAddress: clean.clientAddress,
    userAgent: clean.userAgent,
    createdAt: new Date(createdAt.getTime()),
  });
}

/**
 * Internal: calls the app's `onEvent` hook with a stored event. The hook is not awaited, and its
 * exception or rejection goes to `options.logger`, never to the caller.
 *
 * @example
 * ```ts
 * announceEvent(event, { onEvent: (e) => metrics.increment(e.type) });
 * ```
 */
export function announceEvent(event: AuthEvent, options: RecordEventOptions): void {
  callHook(event, options);
}

/**
 * Stores one event, then calls the app's `onEvent` hook with it. The hook is not awaited (a slow
 * alerting hook never delays a login), and its exception or rejection is passed to `logger`,
 * never to the caller. A storage failure does reject: the caller decides whether an unrecorded
 * event may pass.
 *
 * @example
 * ```ts
 * await recordEvent(db, { type: 'login_failed', email: 'ada@example.com', clientAddress: '203.0.113.9' },
 *   { onEvent: (e) => metrics.increment(e.type) });
 * ```
 */
export async function recordEvent(
  db: Kysely<any>,
  input: AuthEventInput,
  options: RecordEventOptions = {},
): Promise<AuthEvent> {
  const event = await storeEvent(db, input, options.clock);
  callHook(event, options);
  return event;
}

/** Options of {@link listEvents}. */
export interface ListEventsOptions {
  /** Only this type (or these types). */
  readonly type?: AuthEventType | readonly AuthEventType[];
  readonly userId?: number;
  /** Compared normalised. */
  readonly email?: string;
  /** Only events at or after this time. */
  readonly since?: Date;
  /** Only events before this time. */
  readonly until?: Date;
  /** Page size, 1 to 1000. Default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string | null;
}

/** A page of {@link listEvents}, newest first. `nextCursor` is null on the last page. */
export interface EventPage {
  readonly events: AuthEvent[];
  readonly nextCursor: string | null;
}



/** Internal: `value` if it is a valid Date, else `validation_failed` naming `name`. */
export function validDate(value: unknown, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new AuthKitError('validation_failed', `${name} must be a valid Date`, { issues: [{ path: name, message: 'Must be a Date' }] });
  }
  return value;
}

interface EventRow {
  id: number | string;
  type: string;
  user_id: number | string | null;
  email: string | null;
  client_address: string | null;
  user_agent: string | null;
  created_at: Date | string;
}

function toEvent(row: EventRow): AuthEvent {
  return {
    id: Number(row.id),
    type: row.type as AuthEventType,
    userId: row.user_id === null ? null : Number(row.user_id),
    email: row.email,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
    createdAt: fromDbTime(row.created_at),
  };
}

/**
 * Lists events newest first, one keyset page at a time (stable under concurrent inserts), each
 * filter served by an index.
 *
 * @example
 * ```ts
 * let page = await listEvents(db, { type: 'login_failed', since: new Date(Date.now() - 86_400_000) });
 * while (page.nextCursor) page = await listEvents(db, { type: 'login_failed', cursor: page.nextCursor });
 * ```
 */
export async function listEvents(db: Kysely<any>, options: ListEventsOptions = {}): Promise<EventPage> {
  const limit = options.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new AuthKitError('validation_failed', 'limit must be an integer from 1 to 1000', {
      issues: [{ path: 'limit', message: 'Must be 1 to 1000' }],
    });
  }
  let query = asDb(db)
    .selectFrom('auth_events')
    .select(['id', 'type', 'user_id', 'email', 'client_address', 'user_agent', 'created_at']);
  if (options.type !== undefined) {
    const types = (Array.isArray(options.type) ? options.type : [options.type]) as unknown[];
    if (types.length === 0 || !types.every(isAuthEventType)) {
      throw new AuthKitError('validation_failed', 'Unknown auth event type', {
        issues: [{ path: 'type', message: `Must be one of ${AUTH_EVENT_TYPES.join(', ')}` }],
      });
    }
    query = types.length === 1 ? query.where('type', '=', types[0]) : query.where('type', 'in', types);
  }
  if (options.userId !== undefined) {
    if (!Number.isSafeInteger(options.userId)) {
      throw new AuthKitError('validation_failed', 'userId must be an integer', { issues: [{ path: 'userId', message: 'Must be an integer' }] });
    }
    query = query.where('user_id', '=', options.userId);
  }
  if (options.email !== undefined) query = query.where('email', '=', normalizeEmail(String(options.email)));
  if (options.since !== undefined) query = query.where('created_at', '>=', toDbTime(validDate(options.since, 'since')));
  if (options.until !== undefined) query = query.where('created_at', '<', toDbTime(validDate(options.until, 'until')));
  if (options.cursor) {
    const { createdAt, id } = decodeKeysetCursor(options.cursor, 'listEvents');
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    );
  }
  const rows = (await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute()) as EventRow[];
  const events = rows.slice(0, limit).map(toEvent);
  const last = events.at(-1);
  const nextCursor = rows.length > limit && last ? encodeKeysetCursor(last.createdAt, last.id) : null;
  return { events, nextCursor };
}

/** Options of {@link pruneEvents}. */
export interface PruneEventsOptions {
  /** Events created before this time are deleted. */
  readonly olderThan: Date;
}

/**
 * Deletes events created before `olderThan` and returns how many. Failed logins older than the
 * lockout window no longer count, but the 100-consecutive-failure cap counts back to the last
 * success: prune no closer than your audit retention needs (90 days is a common choice).
 *
 * @example
 * ```ts
 * const deleted = await pruneEvents(db, { olderThan: new Date(Date.now() - 90 * 86_400_000) });
 * ```
 */
export async function pruneEvents(db: Kysely<any>, options: PruneEventsOptions): Promise<number> {
  const olderThan = validDate(options?.olderThan, 'olderThan');
  const result = await asDb(db)
    .deleteFrom('auth_events')
    .where('created_at', '<', toDbTime(olderThan))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** An event log bound to a database, a clock and the app's hook. Create with {@link createEventRecorder}. */
export interface EventRecorder {
  /** Stores an event of `type` (see {@link recordEvent}). */
  record(type: AuthEventType, details?: AuthEventDetails): Promise<AuthEvent>;
  /** See {@link listEvents}. */
  list(options?: ListEventsOptions): Promise<EventPage>;
  /** See {@link pruneEvents}. */
  prune(options: PruneEventsOptions): Promise<number>;
}

/**
 * Binds the event functions to one database, clock and hook, so a flow records in one line.
 *
 * @example
 * ```ts
 * const events = createEventRecorder(db, { clock, onEvent: (e) => log.info({ auth: e.type }) });
 * await events.record('login_failed', { email, clientAddress, userAgent });
 * ```
 */
export function createEventRecorder(db: Kysely<any>, options: RecordEventOptions = {}): EventRecorder {
  return Object.freeze({
    record: (type: AuthEventType, details: AuthEventDetails = {}) => recordEvent(db, { ...details, type }, options),
    list: (listOptions?: ListEventsOptions) => listEvents(db, listOptions),
    prune: (pruneOptions: PruneEventsOptions) => pruneEvents(db, pruneOptions),
  });
}

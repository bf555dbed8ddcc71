/**
 * Sessions (S17): opaque refresh tokens that rotate on every use, reuse detection that revokes a
 * whole family, logout, listing and revocation. `auth_sessions` holds one row per refresh token;
 * a password login starts a family (the session a user sees), each refresh spends its row and
 * adds the next one, with the same absolute expiry.
 *
 * ```text
 * login ──► access + refresh R1 ──refresh(R1)──► access + R2 (R1 spent) ──refresh(R2)──► R3 …
 *                                   refresh(R1) again ⇒ reuse: every row of the family revoked,
 *                                                      R3 (the newest) stops working too
 * ```
 */
import { hash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import { fromDbBool, fromDbTime, toDbTime } from './database/dialect.js';
import { prepareQuery } from './database/prepared.js';
import type { AuthKitDatabase } from './database/types.js';
import { AuthKitError } from './errors.js';
import { randomBase64url } from './random.js';
import type { AccessTokenResponse, TokenService } from './tokens.js';

/** Random bytes in a refresh or password-reset token: 256 bits (S17). */
export const OPAQUE_TOKEN_BYTES = 32;
/** Longest client address and user agent stored on a session, in characters. */
const MAX_CLIENT_ADDRESS_LENGTH = 100;
const MAX_USER_AGENT_LENGTH = 512;
/** 32 bytes in base64url without padding. */
const OPAQUE_TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** Revocation re-runs until a pass finds nothing (see {@link revokeUntilNoneLeft}); this bounds it. */
const MAX_REVOKE_PASSES = 8;

/** Where a request came from; stored on the session and passed to events. Every field is optional. */
export interface ClientContext {
  /** The client's IP address as the app resolved it. */
  readonly clientAddress?: string | null;
  /** The `User-Agent` header. */
  readonly userAgent?: string | null;
}

/**
 * The token response of a login or a refresh, camelCased (the HTTP layer writes the RFC 6749
 * names `access_token`, `refresh_token`, …).
 */
export interface TokenResponse extends AccessTokenResponse {
  /** Opaque, single-use: a refresh spends it and returns the next one. */
  readonly refreshToken: string;
  /** Seconds until the session ends; rotation does not extend it. */
  readonly refreshExpiresIn: number;
  /** The session id (also the `sid` claim of the access token), as {@link ActiveSession.id}. */
  readonly sessionId: string;
}

/** One active session of a user, as `listSessions` returns it. */
export interface ActiveSession {
  /** The session (family) id; pass it to `revokeSession`. */
  readonly id: string;
  /** When the login that started the session happened. */
  readonly createdAt: Date;
  /** When the session was last refreshed; null before its first refresh. */
  readonly lastUsedAt: Date | null;
  /** When the session ends, whatever happens (absolute lifetime). */
  readonly expiresAt: Date;
  readonly clientAddress: string | null;
  readonly userAgent: string | null;
  /** True for the session the caller's access token belongs to (`currentSessionId`). */
  readonly current: boolean;
}

/** The security events the session and password flows report (recorded by the events module). */
export type SessionEventType =
  | 'login_succeeded'
  | 'token_refreshed'
  | 'refresh_reuse_detected'
  | 'logout'
  | 'password_changed'
  | 'password_reset'
  | 'user_deactivated';

/** What a session event carries: never a password or a token. */
export interface SessionEventDetails {
  readonly userId: number | null;
  readonly email?: string | null;
  readonly clientAddress?: string | null;
  readonly userAgent?: string | null;
}

/**
 * Internal hook point: the flows call it after each security-relevant step. `createAuth` passes
 * one that stores the event in `auth_events` (and then calls the app's `onEvent`); a rejection
 * (the event could not be stored) fails the flow.
 *
 * @example
 * ```ts
 * const emit: EmitSessionEvent = (type, details) => console.log(type, details.userId);
 * ```
 */
export type EmitSessionEvent = (type: SessionEventType, details: SessionEventDetails) => void | Promise<void>;

/**
 * The do-nothing {@link EmitSessionEvent}.
 *
 * @example
 * ```ts
 * createSessionManager(db, { clock, tokens, refreshTokenExpireDays: 14, emit: ignoreSessionEvent });
 * ```
 */
export const ignoreSessionEvent: EmitSessionEvent = () => undefined;

/**
 * A new opaque token: 32 random bytes, base64url (43 characters).
 *
 * @example
 * ```ts
 * const token = generateOpaqueToken(); // hand it out; store only hashOpaqueToken(token)
 * ```
 */
export function generateOpaqueToken(): string {
  return randomBase64url(OPAQUE_TOKEN_BYTES);
}

/**
 * The stored form of an opaque token: SHA-256, hex. A plain hash suffices (no salt, no argon2):
 * the token has 256 random bits, so there is nothing to guess from its hash.
 *
 * @example
 * ```ts
 * hashOpaqueToken(generateOpaqueToken()).length; // 64
 * ```
 */
export function hashOpaqueToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * True when `value` has the shape of a token from {@link generateOpaqueToken}; anything else is
 * refused without a database query.
 *
 * @example
 * ```ts
 * isOpaqueToken(generateOpaqueToken()); // true
 * isOpaqueToken('not-a-token');         // false
 * ```
 */
export function isOpaqueToken(value: string): boolean {
  return OPAQUE_TOKEN_FORMAT.test(value);
}

/**
 * A random row id: 128 bits, base64url (22 characters).
 *
 * @example
 * ```ts
 * const familyId = newRowId();
 * ```
 */
export function newRowId(): string {
  return randomBase64url(16);
}

/**
 * A required string field: not a string → `validation_failed` (never coerced, S6); empty →
 * `invalid_request`. The value is never echoed.
 *
 * @example
 * ```ts
 * const token = requireString(body.refresh_token, 'refresh_token');
 * ```
 */
export function requireString(value: unknown, name: string): string {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new AuthKitError('validation_failed', `The ${name} must be a string`, {
      issues: [{ path: name, message: 'Must be a string' }],
    });
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuthKitError('invalid_request', `The ${name} is required`, {
      issues: [{ path: name, message: 'Required' }],
    });
  }
  return value;
}

/**
 * Throws `validation_failed` unless `id` is a user id (a positive safe integer).
 *
 * @example
 * ```ts
 * assertUserId(userId); // narrows `userId` to number
 * ```
 */
export function assertUserId(id: unknown): asserts id is number {
  if (!Number.isSafeInteger(id) || (id as number) < 1) {
    throw new AuthKitError('validation_failed', 'A user id must be a positive integer', {
      issues: [{ path: 'userId', message: 'Must be a positive integer' }],
    });
  }
}

/**
 * The one error for every unusable refresh or reset token: no oracle on which case it was.
 *
 * @example
 * ```ts
 * if (!row) throw invalidGrant();
 * ```
 */
export function invalidGrant(kind: 'refresh' | 'reset' = 'refresh'): AuthKitError {
  return new AuthKitError(
    'invalid_grant',
    kind === 'refresh'
      ? 'The refresh token is invalid, expired or revoked'
      : 'The password reset token is invalid, expired or already used',
  );
}

function cleanText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // Control characters would let a client forge lines wherever the field is printed.
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean === '' ? null : clean.slice(0, max);
}

/**
 * The context as stored: strings only, control characters blanked, length-capped.
 *
 * @example
 * ```ts
 * cleanContext({ userAgent: 'curl/8\n' }); // { clientAddress: null, userAgent: 'curl/8' }
 * ```
 */
export function cleanContext(context: ClientContext | undefined): { clientAddress: string | null; userAgent: string | null } {
  return {
    clientAddress: cleanText(context?.clientAddress, MAX_CLIENT_ADDRESS_LENGTH),
    userAgent: cleanText(context?.userAgent, MAX_USER_AGENT_LENGTH),
  };
}

/** The first row of a session; every login inserts one, so it is prepared once per handle. */
const insertSession = prepareQuery(
  9,
  (
    db: Kysely<any>,
    id: string,
    userId: number,
    familyId: string,
    tokenHash: string,
    tokenVersion: number,
    createdAt: string,
    expiresAt: string,
    clientAddress: string | null,
    userAgent: string | null,
  ) =>
    (db as Kysely<AuthKitDatabase>).insertInto('auth_sessions').values({
      id,
      user_id: userId,
      family_id: familyId,
      token_hash: tokenHash,
      token_version: tokenVersion,
      created_at: createdAt,
      last_used_at: null,
      expires_at: expiresAt,
      used_at: null,
      revoked_at: null,
      client_address: clientAddress,
      user_agent: userAgent,
    }),
);

interface RevokedRow {
  family_id: string;
  used_at: Date | string | null;
  expires_at: Date | string;
}

/**
 * Runs a revoking UPDATE until a pass changes nothing. On PostgreSQL (READ COMMITTED) an UPDATE
 * that waits for a concurrent rotation's row lock re-checks that row but not the row the rotation
 * inserted; the next pass sees it. On SQLite the first pass is already complete.
 */
async function revokeUntilNoneLeft(pass: () => Promise<RevokedRow[]>): Promise<RevokedRow[]> {
  const all: RevokedRow[] = [];
  for (let i = 0; i < MAX_REVOKE_PASSES; i++) {
    const rows = await pass();
    all.push(...rows);
    if (rows.length === 0) break;
  }
  return all;
}

/** How many distinct sessions among revoked rows were active (unspent, unexpired) when revoked. */
function activeFamilies(rows: readonly RevokedRow[], now: Date): number {
  const families = new Set<string>();
  for (const row of rows) {
    if (row.used_at === null && fromDbTime(row.expires_at) > now) families.add(row.family_id);
  }
  return families.size;
}

/**
 * Revokes every row of one session family (optionally only if it belongs to `userId`). Returns
 * how many of the revoked rows were active sessions (0 or 1).
 *
 * @example
 * ```ts
 * const ended = (await revokeFamily(db, sessionId, clock(), userId)) > 0;
 * ```
 */
export async function revokeFamily(
  db: Kysely<AuthKitDatabase>,
  familyId: string,
  now: Date,
  userId?: number,
): Promise<number> {
  const at = toDbTime(now);
  const rows = await revokeUntilNoneLeft(() => {
    let query = db
      .updateTable('auth_sessions')
      .set({ revoked_at: at })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    return query.returning(['family_id', 'used_at', 'expires_at']).execute();
  });
  return activeFamilies(rows, now);
}

/**
 * Revokes every session of a user, except the family `exceptFamilyId` when given. Works inside a
 * transaction (pass the transaction). Returns the number of active sessions revoked.
 *
 * @example
 * ```ts
 * await db.transaction().execute((trx) => revokeUserSessions(trx, user.id, clock()));
 * ```
 */
export async function revokeUserSessions(
  db: Kysely<AuthKitDatabase>,
  userId: number,
  now: Date,
  options: { readonly exceptFamilyId?: string | null } = {},
): Promise<number> {
  const at = toDbTime(now);
  const except = options.exceptFamilyId;
  const rows = await revokeUntilNoneLeft(() => {
    let query = db
      .updateTable('auth_sessions')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (typeof except === 'string') query = query.where('family_id', '<>', except);
    return query.returning(['family_id', 'used_at', 'expires_at']).execute();
  });
  return activeFamilies(rows, now);
}

/**
 * The active sessions of a user (one per live login: not spent, not revoked, not expired at
 * `now`), newest first. `auth.listSessions` is this on the auth clock; tools that hold no JWT
 * secret (the `auth-kit` command) call it directly.
 *
 * @example
 * ```ts
 * const sessions = await listActiveSessions(db, user.id, { now: new Date() });
 * for (const s of sessions) console.log(s.id, s.clientAddress, s.userAgent, s.expiresAt);
 * ```
 */
export async function listActiveSessions(
  db: Kysely<any>,
  userId: number,
  options: { readonly now?: Date; readonly currentSessionId?: string | null } = {},
): Promise<ActiveSession[]> {
  assertUserId(userId);
  const currentSessionId = options.currentSessionId ?? null;
  const at = toDbTime(options.now ?? new Date());
  const rows = await (db as Kysely<AuthKitDatabase>)
    .selectFrom('auth_sessions')
    .select(['family_id', 'created_at', 'last_used_at', 'expires_at', 'client_address', 'user_agent'])
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.family_id,
    createdAt: fromDbTime(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : fromDbTime(r.last_used_at),
    expiresAt: fromDbTime(r.expires_at),
    clientAddress: r.client_address,
    userAgent: r.user_agent,
    current: currentSessionId !== null && r.family_id === currentSessionId,
  }));
}

/**
 * Logs a user out everywhere, in one transaction: revokes every session and moves the user's
 * token version on, so every access token issued so far is refused (S15). Returns the number of
 * active sessions revoked, or null when there is no such user. `auth.logoutAll` is this on the
 * auth clock (plus its `logout` event); tools that hold no JWT secret call it directly.
 *
 * @example
 * ```ts
 * const revoked = await revokeAllSessions(db, user.id, { now: new Date() }); // e.g. 2
 * ```
 */
export async function revokeAllSessions(
  db: Kysely<any>,
  userId: number,
  options: { readonly now?: Date } = {},
): Promise<number | null> {
  assertUserId(userId);
  const now = options.now ?? new Date();
  return (db as Kysely<AuthKitDatabase>).transaction().execute(async (trx) => {
    // Moving the token version on cuts off every access token issued so far (S15).
    const user = await trx
      .updateTable('auth_users')
      .set((eb) => ({ token_version: eb('token_version', '+', 1) }))
      .where('id', '=', userId)
      .returning('id')
      .executeTakeFirst();
    if (!user) return null;
    return revokeUserSessions(trx, userId, now);
  });
}

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions {
  readonly clock: Clock;
  readonly tokens: TokenService;
  /** Absolute session lifetime in days. */
  readonly refreshTokenExpireDays: number;
  readonly emit: EmitSessionEvent;
}

/** Who a session is started for (the row `login` just verified). */
export interface SessionSubject {
  readonly id: number;
  readonly tokenVersion: number;
}

/** A session drawn by {@link SessionManager.prepare}: not stored, its tokens not yet handed out. Internal. */
export interface PreparedSession {
  readonly subject: SessionSubject;
  readonly familyId: string;
  readonly refreshToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** Settles, never rejects: a signing failure is kept and thrown by `start`, the only reader. */
  readonly access: Promise<{ readonly ok: AccessTokenResponse } | { readonly error: unknown }>;
}

/** The session flows behind `createAuth`'s `login`, `refresh`, `logout`, … Internal. */
export interface SessionManager {
  /**
   * Draws a new session for `subject` and starts signing its access token, without storing
   * anything. Nothing is handed out: only {@link SessionManager.start} returns the tokens. Login
   * calls it before the argon2 verify, so the signature (a round trip to libuv's thread pool)
   * runs during the hash instead of after it; a failed login drops the result unseen.
   */
  prepare(subject: SessionSubject): PreparedSession;
  /**
   * Stores a prepared session (from {@link SessionManager.prepare}) and returns its tokens.
   * `alongside`, if given, runs in the same transaction as the session row (the login stores its
   * `login_succeeded` event so): both rows are stored, or neither is and no token is handed out.
   */
  start(
    prepared: PreparedSession,
    context?: ClientContext,
    alongside?: (trx: Kysely<AuthKitDatabase>) => Promise<unknown>,
  ): Promise<TokenResponse>;
  refresh(refreshToken: string, context?: ClientContext): Promise<TokenResponse>;
  logout(refreshToken: string, context?: ClientContext): Promise<void>;
  list(userId: number, options?: { readonly currentSessionId?: string | null }): Promise<ActiveSession[]>;
  revoke(userId: number, sessionId: string): Promise<boolean>;
  logoutAll(userId: number): Promise<number>;
}

/**
 * Creates the session flows over the kit's tables. `createAuth` builds one; apps use the methods
 * on the `Auth` object instead.
 *
 * @example
 * ```ts
 * const sessions = createSessionManager(db, { clock, tokens, refreshTokenExpireDays: 14, emit: ignoreSessionEvent });
 * const first = await sessions.start(sessions.prepare({ id: user.id, tokenVersion: 0 }));
 * const next = await sessions.refresh(first.refreshToken);
 * ```
 */
export function createSessionManager(db: Kysely<any>, options: SessionManagerOptions): SessionManager {
  const kdb = db as Kysely<AuthKitDatabase>;
  const { clock, tokens, emit } = options;
  const lifetimeMs = options.refreshTokenExpireDays * 24 * 60 * 60 * 1000;

  /** The token response of a session whose access token is `access`. */
  function respond(access: AccessTokenResponse, familyId: string, refreshToken: string, expiresAt: Date, now: Date): TokenResponse {
    return {
      ...access,
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
      sessionId: familyId,
    };
  }

  /** A spent token came back: the family is compromised (RFC 9700 4.14.2). */
  async function reuseDetected(
    row: { family_id: string; user_id: number; email: string },
    now: Date,
    context: ClientContext | undefined,
  ): Promise<never> {
    await revokeFamily(kdb, row.family_id, now);
    await emit('refresh_reuse_detected', { userId: Number(row.user_id), email: row.email, ...cleanContext(context) });
    throw invalidGrant();
  }

  const manager: SessionManager = {
    prepare(subject) {
      const createdAt = clock();
      const familyId = newRowId();
      const access = tokens.createAccessToken({ id: subject.id, tokenVersion: subject.tokenVersion, sessionId: familyId }).then(
        (ok) => ({ ok }),
        (error: unknown) => ({ error }),
      );
      return Object.freeze({
        subject,
        familyId,
        refreshToken: generateOpaqueToken(),
        createdAt,
        expiresAt: new Date(createdAt.getTime() + lifetimeMs),
        access,
      });
    },

    async start(prepared, context, alongside) {
      const { subject, familyId, refreshToken, createdAt, expiresAt } = prepared;
      const ctx = cleanContext(context);
      const insert = (target: Kysely<AuthKitDatabase>) =>
        insertSession(
          target,
          newRowId(),
          subject.id,
          familyId,
          hashOpaqueToken(refreshToken),
          subject.tokenVersion,
          toDbTime(createdAt),
          toDbTime(expiresAt),
          ctx.clientAddress,
          ctx.userAgent,
        );
      if (alongside === undefined) {
        await insert(kdb);
      } else {
        await kdb.transaction().execute(async (trx) => {
          await alongside(trx);
          await insert(trx);
        });
      }
      const signed = await prepared.access;
      if ('error' in signed) throw signed.error;
      return respond(signed.ok, familyId, refreshToken, expiresAt, createdAt);
    },

    async refresh(refreshToken, context) {
      const presented = requireString(refreshToken, 'refresh_token');
      if (!isOpaqueToken(presented)) throw invalidGrant();
      const now = clock();
      const at = toDbTime(now);
      const row = await kdb
        .selectFrom('auth_sessions as s')
        .innerJoin('auth_users as u', 'u.id', 's.user_id')
        .select([
          's.id',
          's.user_id',
          's.family_id',
          's.token_version',
          's.created_at',
          's.expires_at',
          's.used_at',
          's.revoked_at',
          's.client_address',
          's.user_agent',
          'u.email',
          'u.is_active',
          'u.token_version as user_token_version',
        ])
        .where('s.token_hash', '=', hashOpaqueToken(presented))
        .executeTakeFirst();
      if (!row) throw invalidGrant();
      if (row.used_at !== null) return reuseDetected(row, now, context);
      const expiresAt = fromDbTime(row.expires_at);
      if (row.revoked_at !== null || expiresAt <= now) throw invalidGrant();
      const version = Number(row.user_token_version);
      if (!fromDbBool(row.is_active) || Number(row.token_version) !== version) {
        // Deactivated, or the password changed since this session was issued: the family is dead.
        await revokeFamily(kdb, row.family_id, now);
        throw invalidGrant();
      }

      const next = generateOpaqueToken();
      const ctx = cleanContext(context);
      // The claim: a conditional UPDATE that only one of several concurrent refreshes can win
      // (PostgreSQL serialises them on the row lock, SQLite on its write lock). The next token is
      // inserted in the same transaction, so a family revocation can never miss it for long.
      const claimed = await kdb.transaction().execute(async (trx) => {
        const spent = await trx
          .updateTable('auth_sessions')
          .set({ used_at: at })
          .where('id', '=', row.id)
          .where('used_at', 'is', null)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', at)
          .returning('id')
          .executeTakeFirst();
        if (!spent) return false;
        await trx
          .insertInto('auth_sessions')
          .values({
            id: newRowId(),
            user_id: row.user_id,
            family_id: row.family_id,
            token_hash: hashOpaqueToken(next),
            token_version: version,
            created_at: toDbTime(fromDbTime(row.created_at)),
            last_used_at: at,
            expires_at: toDbTime(expiresAt),
            used_at: null,
            revoked_at: null,
            client_address: ctx.clientAddress ?? row.client_address,
            user_agent: ctx.userAgent ?? row.user_agent,
          })
          .execute();
        return true;
      });
      if (!claimed) {
        // Lost a race: another request spent (or revoked) the token between our read and the claim.
        const again = await kdb.selectFrom('auth_sessions').select('used_at').where('id', '=', row.id).executeTakeFirst();
        if (again && again.used_at !== null) return reuseDetected(row, now, context);
        throw invalidGrant();
      }
      await emit('token_refreshed', { userId: Number(row.user_id), email: row.email, ...ctx });
      const access = await tokens.createAccessToken({ id: Number(row.user_id), tokenVersion: version, sessionId: row.family_id });
      return respond(access, row.family_id, next, expiresAt, now);
    },

    async logout(refreshToken, context) {
      const presented = requireString(refreshToken, 'refresh_token');
      // From here on, every outcome is the same for the caller: no oracle on the token (RFC 7009 2.2).
      if (!isOpaqueToken(presented)) return;
      const row = await kdb
        .selectFrom('auth_sessions')
        .select(['family_id', 'user_id'])
        .where('token_hash', '=', hashOpaqueToken(presented))
        .executeTakeFirst();
      if (!row) return;
      const revoked = await revokeFamily(kdb, row.family_id, clock());
      if (revoked > 0) await emit('logout', { userId: Number(row.user_id), ...cleanContext(context) });
    },

    list: (userId, { currentSessionId = null } = {}) => listActiveSessions(kdb, userId, { now: clock(), currentSessionId }),

    async revoke(userId, sessionId) {
      assertUserId(userId);
      if (typeof sessionId !== 'string') {
        throw new AuthKitError('validation_failed', 'A session id must be a string', {
          issues: [{ path: 'sessionId', message: 'Must be a string' }],
        });
      }
      if (sessionId.length === 0 || sessionId.length > 64) return false;
      const revoked = await revokeFamily(kdb, sessionId, clock(), userId);
      if (revoked === 0) return false;
      await emit('logout', { userId });
      return true;
    },

    async logoutAll(userId) {
      const revoked = await revokeAllSessions(kdb, userId, { now: clock() });
      if (revoked === null) return 0;
      await emit('logout', { userId });
      return revoked;
    },
  };
  return Object.freeze(manager);
}

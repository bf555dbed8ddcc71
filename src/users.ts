import { type Insertable, type Kysely, sql } from 'kysely';
import { systemClock, type Clock } from './clock.js';
import { isUniqueViolation, toDbBool, toDbTime } from './database/dialect.js';
import type { AuthUsersTable } from './database/types.js';
import { AuthKitError } from './errors.js';
import { decodeKeysetCursor, encodeKeysetCursor } from './keyset-cursor.js';
import { type PasswordHasher, createPasswordHasher } from './passwords.js';
import { type PasswordPolicy, normalizeEmail, parseInput, userSchemas } from './schemas.js';
import type { EventRecorder } from './events.js';
import { revokeUserSessions } from './sessions.js';
import { USER_COLUMNS, type User, asAuthDb, toUser } from './user-store.js';

export type { User } from './user-store.js';

/** Input of {@link UserService.createUser}. */
export interface CreateUserInput {
  readonly email: string;
  readonly password: string;
  readonly fullName?: string | null;
  /** Default true. */
  readonly isActive?: boolean;
}

/** The only keys {@link UserService.updateUser} accepts; anything else is rejected. */
export interface UserUpdates {
  readonly email?: string;
  readonly fullName?: string | null;
  readonly isActive?: boolean;
  /** Re-hashed; older access tokens stop working. */
  readonly password?: string;
}

/** Options of {@link UserService.listUsers}. */
export interface ListUsersOptions {
  /** Page size, 1 to 1000. Default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string | null;
  /** Only active users. */
  readonly activeOnly?: boolean;
}

/** A page of {@link UserService.listUsers}. `nextCursor` is null on the last page. */
export interface UserPage {
  readonly users: User[];
  readonly nextCursor: string | null;
}

/** Options of {@link createUserService}. */
export interface UserServiceOptions {
  /** The hasher (and so the in-flight cap) to use; share one per app. Default: a new one at OWASP defaults. */
  readonly passwords?: PasswordHasher;
  /** Password policy; default `{ minLength: 8 }`. */
  readonly passwordPolicy?: PasswordPolicy;
  /** Time source for `createdAt` / `updatedAt`. */
  readonly clock?: Clock;
  /**
   * Where `user_deactivated` / `user_activated` events go (`updateUser` changing `isActive`).
   * `createAuth`'s service records them in its event log; a standalone service records nothing
   * unless given one, e.g. `createEventRecorder(db)`. A failure to store the event fails the call
   * (after the update itself was written).
   */
  readonly events?: Pick<EventRecorder, 'record'>;
}

/** User management over the app's Kysely handle. Create with {@link createUserService}. */
export interface UserService {
  /** Validates, normalises the email, hashes the password and inserts. Duplicate → `email_already_registered`. */
  createUser(input: CreateUserInput): Promise<User>;
  /** Case-insensitive lookup. */
  getUserByEmail(email: string): Promise<User | null>;
  getUserById(id: number): Promise<User | null>;
  /**
   * Updates the given fields and `updatedAt`; unknown keys → `validation_failed`. Null when no such
   * user. With an event recorder (see {@link UserServiceOptions.events}), a change of `isActive`
   * records `user_deactivated` or `user_activated`; setting the value it already has records nothing.
   */
  updateUser(id: number, updates: UserUpdates): Promise<User | null>;
  /** Sets `isActive = false`, invalidates the user's access tokens and revokes every session. Null when no such user. */
  deactivateUser(id: number): Promise<User | null>;
  /** Newest first, keyset-paginated. */
  listUsers(options?: ListUsersOptions): Promise<UserPage>;
  countUsers(options?: { activeOnly?: boolean }): Promise<number>;
  /** Emails of the form `<prefix><anything>@<domain>`; wildcards in the arguments match literally. */
  findExistingEmailsWithPrefix(prefix: string, domain: string): Promise<string[]>;
}

/** Escapes LIKE wildcards (`%`, `_`) and the escape character itself (S21). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}



function assertId(id: unknown): asserts id is number {
  if (!Number.isSafeInteger(id)) {
    throw new AuthKitError('validation_failed', 'A user id must be an integer', {
      issues: [{ path: 'id', message: 'Must be an integer' }],
    });
  }
}

function duplicateEmail(cause: unknown): AuthKitError {
  return new AuthKitError('email_already_registered', 'Email already registered', { cause });
}

/**
 * Creates the user service over an existing Kysely handle (SQLite or PostgreSQL, the app's own
 * or one from {@link openDatabase}). Run {@link migrate} once first.
 *
 * @example
 * ```ts
 * const users = createUserService(db);
 * const ada = await users.createUser({ email: 'Ada@Example.com', password: 'correct horse battery staple' });
 * ada.email; // "ada@example.com"
 * ```
 */
export function createUserService(db: Kysely<any>, options: UserServiceOptions = {}): UserService {
  const kdb = asAuthDb(db);
  const passwords = options.passwords ?? createPasswordHasher();
  const clock = options.clock ?? systemClock;
  const events = options.events;
  const schemas = userSchemas(options.passwordPolicy ?? { minLength: 8 });

  async function insert(values: Insertable<AuthUsersTable>) {
    try {
      const row = await kdb.insertInto('auth_users').values(values).returning(USER_COLUMNS).executeTakeFirstOrThrow();
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateEmail(err);
      throw err;
    }
  }

  const service: UserService = {
    async createUser(input) {
      const data = parseInput(schemas.create, input);
      const hashed = await passwords.hash(data.password);
      return insert({
        email: data.email,
        full_name: data.fullName ?? null,
        is_active: toDbBool(data.isActive ?? true),
        hashed_password: hashed,
        created_at: toDbTime(clock()),
      });
    },

    async getUserByEmail(email) {
      if (typeof email !== 'string') return null;
      const row = await kdb
        .selectFrom('auth_users')
        .select(USER_COLUMNS)
        .where('email', '=', normalizeEmail(email))
        .executeTakeFirst();
      return row ? toUser(row) : null;
    },

    async getUserById(id) {
      if (!Number.isSafeInteger(id)) return null;
      const row = await kdb.selectFrom('auth_users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : null;
    },

    async updateUser(id, updates) {
      assertId(id);
      const data = parseInput(schemas.update, updates);
      const now = clock();
      const values: Record<string, unknown> = { updated_at: toDbTime(now) };
      if (data.email !== undefined) values.email = data.email;
      if (data.fullName !== undefined) values.full_name = data.fullName;
      if (data.isActive !== undefined) values.is_active = toDbBool(data.isActive);
      if (data.password !== undefined) values.hashed_password = await passwords.hash(data.password);
      // A new password or a deactivation cuts off every token issued before it (S15), and every
      // session: in one transaction, so no refresh can slip in between.
      const cutsOff = data.password !== undefined || data.isActive === false;
      const write = async (q: typeof kdb) => {
        const update = () =>
          q
            .updateTable('auth_users')
            .set((eb) => ({ ...values, ...(cutsOff ? { token_version: eb('token_version', '+', 1) } : {}) }))
            .where('id', '=', id);
        // Only an update that really flips `isActive` is an activation or a deactivation event:
        // tried first, conditional on the old value, so of two concurrent flips exactly one reports it.
        let updated =
          data.isActive === undefined
            ? undefined
            : await update().where('is_active', '=', toDbBool(!data.isActive)).returning(USER_COLUMNS).executeTakeFirst();
        const flipped = updated !== undefined;
        updated ??= await update().returning(USER_COLUMNS).executeTakeFirst();
        if (updated && cutsOff) await revokeUserSessions(q, id, now);
        return updated === undefined ? undefined : { updated, flipped };
      };
      let result;
      try {
        const atomic = cutsOff || data.isActive !== undefined;
        result = await (atomic ? kdb.transaction().execute(write) : write(kdb));
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateEmail(err);
        throw err;
      }
      if (!result) return null;
      const row = result.updated;
      if (result.flipped && events) {
        await events.record(data.isActive ? 'user_activated' : 'user_deactivated', { userId: Number(row.id), email: row.email });
      }
      return toUser(row);
    },

    deactivateUser(id) {
      return service.updateUser(id, { isActive: false });
    },

    async listUsers({ limit = 50, cursor, activeOnly = false } = {}) {
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
        throw new AuthKitError('validation_failed', 'limit must be an integer from 1 to 1000', {
          issues: [{ path: 'limit', message: 'Must be an integer from 1 to 1000' }],
        });
      }
      let query = kdb.selectFrom('auth_users').select(USER_COLUMNS);
      if (activeOnly) query = query.where('is_active', '=', toDbBool(true));
      if (cursor) {
        const after = decodeKeysetCursor(cursor, 'listUsers');
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
          ]),
        );
      }
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const users = rows.slice(0, limit).map(toUser);
      const last = users.at(-1);
      return { users, nextCursor: rows.length > limit && last ? encodeKeysetCursor(last.createdAt, last.id) : null };
    },

    async countUsers({ activeOnly = false } = {}) {
      let query = kdb.selectFrom('auth_users').select((eb) => eb.fn.countAll<number | string | bigint>().as('n'));
      if (activeOnly) query = query.where('is_active', '=', toDbBool(true));
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findExistingEmailsWithPrefix(prefix, domain) {
      if (typeof prefix !== 'string' || typeof domain !== 'string') {
        throw new AuthKitError('validation_failed', 'prefix and domain must be strings');
      }
      const p = normalizeEmail(prefix);
      const d = normalizeEmail(domain);
      // The range predicate lets both dialects scan the email index from the prefix on; the
      // escaped LIKE then keeps exactly `<prefix>…@<domain>`.
      const rows = await kdb
        .selectFrom('auth_users')
        .select('email')
        .where('email', '>=', p)
        .where('email', '<', `${p}\u{10FFFF}`)
        .where(sql<boolean>`email like ${`${escapeLike(p)}%@${escapeLike(d)}`} escape ${sql.lit('\\')}`)
        .orderBy('email')
        .execute();
      return rows.map((r) => r.email);
    },
  };
  return Object.freeze(service);
}

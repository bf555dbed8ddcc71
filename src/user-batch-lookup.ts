/**
 * `authenticate` reads the user behind every bearer token from the database (revocation must be
 * immediate, and the state lives in the database, not in this process). Under load many requests
 * arrive in one turn of the event loop: their lookups are gathered and answered by one query at
 * the end of that turn (`setImmediate`), one row per distinct user. Every lookup is still answered
 * by a read that starts after its request arrived, so a deactivation or a password change that
 * committed before is always seen.
 *
 * ```text
 * poll phase:  GET /me (user 7) ─┐
 *              GET /me (user 7) ─┼─► check phase: select … from auth_users where id in (7, 9)
 *              GET /me (user 9) ─┘
 * ```
 */
import { CompiledQuery, type Kysely, type Selectable } from 'kysely';
import type { AuthKitDatabase, AuthUsersTable } from './database/types.js';
import { USER_COLUMNS } from './user-store.js';

/** What a lookup returns: the public columns plus the token version (S15). */
export type UserWithVersionRow = Pick<Selectable<AuthUsersTable>, (typeof USER_COLUMNS)[number] | 'token_version'>;

/** Most ids in one query; a larger turn is split into several queries. */
export const MAX_IDS_PER_QUERY = 32;

/** Looks users up by id, batched per event-loop turn. Create with {@link createUserBatchLookup}. */
export type UserBatchLookup = (id: number) => Promise<UserWithVersionRow | undefined>;

interface Waiter {
  readonly resolve: (row: UserWithVersionRow | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Creates the batched lookup over the kit's tables. The SQL for each batch size is compiled once
 * (Kysely still writes it); the ids are bound as parameters. A failing query rejects every lookup
 * of its batch with the driver's error.
 *
 * @example
 * ```ts
 * const lookup = createUserBatchLookup(db);
 * const [a, b] = await Promise.all([lookup(7), lookup(9)]); // one query: … where id in (7, 9)
 * ```
 */
export function createUserBatchLookup(db: Kysely<AuthKitDatabase>): UserBatchLookup {
  const sqlBySize = new Map<number, string>();
  let pending = new Map<number, Waiter[]>();
  let scheduled = false;

  function sqlFor(size: number): string {
    let text = sqlBySize.get(size);
    if (text === undefined) {
      text = db
        .selectFrom('auth_users')
        .select([...USER_COLUMNS, 'token_version'])
        .where('id', 'in', Array.from({ length: size }, (_, i) => i + 1))
        .compile().sql;
      sqlBySize.set(size, text);
    }
    return text;
  }

  async function answer(ids: number[], waiters: Map<number, Waiter[]>): Promise<void> {
    try {
      const { rows } = await db.executeQuery<UserWithVersionRow>(CompiledQuery.raw(sqlFor(ids.length), ids));
      const byId = new Map(rows.map((row) => [Number(row.id), row]));
      for (const id of ids) for (const waiter of waiters.get(id) ?? []) waiter.resolve(byId.get(id));
    } catch (error) {
      for (const id of ids) for (const waiter of waiters.get(id) ?? []) waiter.reject(error);
    }
  }

  function flush(): void {
    const batch = pending;
    pending = new Map();
    scheduled = false;
    const ids = [...batch.keys()];
    for (let start = 0; start < ids.length; start += MAX_IDS_PER_QUERY) {
      void answer(ids.slice(start, start + MAX_IDS_PER_QUERY), batch);
    }
  }

  return (id) =>
    new Promise((resolve, reject) => {
      const waiters = pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(id, [{ resolve, reject }]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

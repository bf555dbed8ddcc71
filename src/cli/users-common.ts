/**
 * What the `users` commands share: the database (which must exist and be migrated), the user
 * service built as the app builds it, and finding a user by email or id.
 */
import type { Kysely } from 'kysely';
import { type User, type UserService, createEventRecorder, createUserService } from 'auth-kit';
import { CliError, type RunContext } from './command.js';
import { databaseUrlOf, openCommandDatabase, passwordOptionsFromEnv, requireMigrated, withDatabase } from './database.js';

/** Opens the migrated database, runs `task` with a user service over it (and the handle), closes the database. */
export async function withUsers<T>(
  ctx: RunContext<any>,
  task: (users: UserService, label: string, db: Kysely<any>) => Promise<T>,
): Promise<T> {
  const opened = (await openCommandDatabase(databaseUrlOf(ctx.args['database-url'], ctx.io.env), ctx.io, { missingFile: 'existing' }))!;
  return withDatabase(opened, async (o) => {
    await requireMigrated(o);
    // Record user_activated / user_deactivated as the app's own service does (S19).
    const users = createUserService(o.db, { ...passwordOptionsFromEnv(ctx.io.env), events: createEventRecorder(o.db) });
    return task(users, o.label, o.db);
  });
}

/** Finds a user by id (all digits) or email (case-insensitive); a miss is a one-line failure. */
export async function findUser(users: UserService, ref: string): Promise<User> {
  const user = /^\d+$/.test(ref) ? await users.getUserById(Number(ref)) : await users.getUserByEmail(ref);
  if (user) return user;
  throw new CliError(
    `no user ${/^\d+$/.test(ref) ? `with id ${ref}` : `with email ${ref.trim().toLowerCase()}`}. ` +
      'List them with `auth-kit users list`',
  );
}

/** `#42 ada@example.com`, for messages. */
export function describeUser(user: User): string {
  return `#${user.id} ${user.email}`;
}

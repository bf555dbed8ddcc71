import { type Kysely, type Selectable, WithSchemaPlugin } from 'kysely';
import type { AuthKitDatabase, AuthUsersTable } from './database/types.js';
import { fromDbBool, fromDbTime } from './database/dialect.js';

/**
 * A user as auth-kit returns it: never the password hash. JSON-safe field names (camelCase).
 */
export interface User {
  readonly id: number;
  readonly email: string;
  readonly fullName: string | null;
  readonly isActive: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date | null;
}

/** The columns that make a {@link User}; the hash is not among them. */
export const USER_COLUMNS = ['id', 'email', 'full_name', 'is_active', 'created_at', 'updated_at'] as const;

type UserRow = Pick<Selectable<AuthUsersTable>, (typeof USER_COLUMNS)[number]>;

/** Maps a row of either dialect to a {@link User}. */
export function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    email: row.email,
    fullName: row.full_name,
    isActive: fromDbBool(row.is_active),
    createdAt: fromDbTime(row.created_at),
    updatedAt: row.updated_at === null ? null : fromDbTime(row.updated_at),
  };
}

/**
 * Internal: the kit's handle, typed with its own tables whatever the app's handle is typed with.
 * The app's plugins (e.g. `CamelCasePlugin`, which renames result columns) would break the kit's
 * snake_case queries and row mapping, so they are dropped; a schema from `db.withSchema()` is kept.
 */
export function asAuthDb(db: Kysely<any>): Kysely<AuthKitDatabase> {
  const plugins = db.getExecutor().plugins;
  if (plugins.length === 0) return db as Kysely<AuthKitDatabase>;
  let bare = db.withoutPlugins() as Kysely<AuthKitDatabase>;
  for (const plugin of plugins) if (plugin instanceof WithSchemaPlugin) bare = bare.withPlugin(plugin);
  return bare;
}

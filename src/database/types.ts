import type { ColumnType, Generated } from 'kysely';

/**
 * A timestamp column: PostgreSQL `timestamptz` reads back as a `Date`, SQLite `text` (ISO 8601,
 * UTC) as a string; auth-kit always writes ISO strings, which both accept. Rows are mapped to
 * `Date` before they leave the kit.
 */
export type Timestamp = ColumnType<Date | string, string, string>;
/** A boolean column: `boolean` on PostgreSQL, `integer` 0/1 on SQLite. */
export type BooleanColumn = ColumnType<boolean | number, boolean | number, boolean | number>;

/** The `auth_users` table. */
export interface AuthUsersTable {
  id: Generated<number>;
  email: string;
  full_name: string | null;
  is_active: BooleanColumn;
  hashed_password: string;
  /** Moves on at every password change, deactivation or logout-all; tokens carry the value they were issued with (S15). */
  token_version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: ColumnType<Date | string | null, string | null | undefined, string | null>;
}

/** Every table auth-kit owns, for typing a `Kysely<AuthKitDatabase>` (or merging into the app's own). */
export interface AuthKitDatabase {
  auth_users: AuthUsersTable;
}

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

/** The `auth_events` table: what happened, when, to whom and from where. Never a password or a token. */
export interface AuthEventsTable {
  id: Generated<number>;
  type: string;
  /** Null when the account is unknown; no foreign key, so the history outlives deleted users. */
  user_id: number | null;
  /** Normalised email, so failed logins of unknown accounts count too. */
  email: string | null;
  client_address: string | null;
  /** The per-address limit key: IPv4 as is, IPv6 grouped by /64. */
  client_key: string | null;
  user_agent: string | null;
  created_at: Timestamp;
}

/** A nullable timestamp column (see {@link Timestamp}). */
type NullableTimestamp = ColumnType<Date | string | null, string | null | undefined, string | null>;

/**
 * The `auth_sessions` table: one row per refresh token. A login starts a family (`family_id`, the
 * session id users see); each rotation spends its row (`used_at`) and adds the next one, copying
 * `created_at` (when the session began) and `expires_at` (the absolute lifetime). An active
 * session is a row with `used_at` and `revoked_at` null and `expires_at` in the future.
 */
export interface AuthSessionsTable {
  /** Random, 128 bits, base64url. */
  id: string;
  user_id: number;
  family_id: string;
  /** SHA-256 of the refresh token, hex; the token itself is never stored. */
  token_hash: string;
  /** `auth_users.token_version` when the row was issued; a refresh needs it to still match. */
  token_version: number;
  created_at: Timestamp;
  /** When the session was last refreshed (null until its first refresh). */
  last_used_at: NullableTimestamp;
  expires_at: Timestamp;
  /** Set when the token was spent by a rotation; presenting it again revokes the family. */
  used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  client_address: string | null;
  user_agent: string | null;
}

/** The `auth_password_reset_tokens` table: single-use reset tokens, stored as SHA-256 hashes. */
export interface AuthPasswordResetTokensTable {
  id: string;
  user_id: number;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

/** Every table auth-kit owns, for typing a `Kysely<AuthKitDatabase>` (or merging into the app's own). */
export interface AuthKitDatabase {
  auth_users: AuthUsersTable;
  auth_sessions: AuthSessionsTable;
  auth_password_reset_tokens: AuthPasswordResetTokensTable;
  auth_events: AuthEventsTable;
}

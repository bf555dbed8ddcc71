import { type Kysely, type Migration, sql } from 'kysely';
import { dialectOf } from './dialect.js';

/**
 * auth-kit's migrations, in order. Shipped in the package; never edited once released: a change
 * to the schema is a new entry with a later sortable name.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_create_auth_users': {
    async up(db: Kysely<any>) {
      const pg = dialectOf(db) === 'postgres';
      await db.schema
        .createTable('auth_users')
        .addColumn('id', 'integer', (col) =>
          pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
        )
        // PostgreSQL: byte-wise "C" collation, so prefix ranges on the index are exact (S21).
        .addColumn('email', 'text', (col) => (pg ? col.modifyFront(sql`collate "C"`) : col).notNull())
        .addColumn('full_name', 'text')
        .addColumn('is_active', pg ? 'boolean' : 'integer', (col) => col.notNull().defaultTo(pg ? sql`true` : 1))
        .addColumn('hashed_password', 'text', (col) => col.notNull())
        .addColumn('token_version', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', pg ? 'timestamptz' : 'text', (col) => col.notNull())
        .addColumn('updated_at', pg ? 'timestamptz' : 'text')
        .execute();
      await db.schema.createIndex('auth_users_email_key').on('auth_users').column('email').unique().execute();
      await db.schema
        .createIndex('auth_users_created_at_id_idx')
        .on('auth_users')
        .columns(['created_at', 'id'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('auth_users').execute();
    },
  },
  '0002_create_auth_sessions': {
    // Self-contained: written against the schema as 0001 left it, never against later code.
    async up(db: Kysely<any>) {
      const pg = dialectOf(db) === 'postgres';
      const time = pg ? 'timestamptz' : 'text';
      // One row per refresh token; a login starts a family (the session users see), each rotation
      // adds a row to it. Only the SHA-256 of a token is stored (S17).
      await db.schema
        .createTable('auth_sessions')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'integer', (col) => col.notNull().references('auth_users.id').onDelete('cascade'))
        .addColumn('family_id', 'text', (col) => col.notNull())
        .addColumn('token_hash', 'text', (col) => col.notNull())
        // auth_users.token_version when issued: a refresh after a password change, logout-all or
        // deactivation fails even if a concurrent rotation slipped past the revocation.
        .addColumn('token_version', 'integer', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('last_used_at', time)
        .addColumn('expires_at', time, (col) => col.notNull())
        .addColumn('used_at', time)
        .addColumn('revoked_at', time)
        .addColumn('client_address', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('auth_sessions_token_hash_key').on('auth_sessions').column('token_hash').unique().execute();
      await db.schema.createIndex('auth_sessions_user_id_idx').on('auth_sessions').column('user_id').execute();
      await db.schema.createIndex('auth_sessions_family_id_idx').on('auth_sessions').column('family_id').execute();

      await db.schema
        .createTable('auth_password_reset_tokens')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'integer', (col) => col.notNull().references('auth_users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (col) => col.notNull())
        .addColumn('created_at', time, (col) => col.notNull())
        .addColumn('expires_at', time, (col) => col.notNull())
        .addColumn('used_at', time)
        .execute();
      await db.schema
        .createIndex('auth_password_reset_tokens_token_hash_key')
        .on('auth_password_reset_tokens')
        .column('token_hash')
        .unique()
        .execute();
      await db.schema
        .createIndex('auth_password_reset_tokens_user_id_idx')
        .on('auth_password_reset_tokens')
        .column('user_id')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('auth_password_reset_tokens').execute();
      await db.schema.dropTable('auth_sessions').execute();
    },
  },
  '0003_create_auth_events': {
    // Self-contained: no foreign key to auth_users (the history outlives deleted users).
    async up(db: Kysely<any>) {
      const pg = dialectOf(db) === 'postgres';
      await db.schema
        .createTable('auth_events')
        .addColumn('id', 'integer', (col) =>
          pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
        )
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('user_id', 'integer')
        .addColumn('email', 'text')
        .addColumn('client_address', 'text')
        // The per-address limit key: IPv4 as is, IPv6 grouped by /64 (see clientAddressKey).
        .addColumn('client_key', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('created_at', pg ? 'timestamptz' : 'text', (col) => col.notNull())
        .execute();
      // Lockout: the failures and the last success of one email, each an exact range.
      await db.schema
        .createIndex('auth_events_email_type_created_at_idx')
        .on('auth_events')
        .columns(['email', 'type', 'created_at'])
        .execute();
      // Counts by type and time (status card, `events list --type`).
      await db.schema
        .createIndex('auth_events_type_created_at_idx')
        .on('auth_events')
        .columns(['type', 'created_at'])
        .execute();
      await db.schema
        .createIndex('auth_events_user_id_created_at_idx')
        .on('auth_events')
        .columns(['user_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('auth_events_client_key_type_created_at_idx')
        .on('auth_events')
        .columns(['client_key', 'type', 'created_at'])
        .execute();
      // Unfiltered listing and pruning by age.
      await db.schema.createIndex('auth_events_created_at_idx').on('auth_events').column('created_at').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('auth_events').execute();
    },
  },
});

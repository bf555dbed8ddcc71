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
});

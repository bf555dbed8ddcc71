/**
 * `auth-kit/sqlite`: a Kysely handle over better-sqlite3, configured as auth-kit expects.
 * @packageDocumentation
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { SQLITE_BUSY_TIMEOUT_MS, configureSqlite, withStatementCache } from 'auth-kit';

/**
 * Creates a Kysely handle on a SQLite file (or `:memory:`), or on a better-sqlite3 `Database`
 * the app already owns. Either way the handle gets WAL journaling (files), foreign keys and a
 * busy timeout, and prepared statements are reused. `db.destroy()` closes the database.
 *
 * @example
 * ```ts
 * import { createSqliteDatabase } from 'auth-kit/sqlite';
 * const db = createSqliteDatabase('./app.db');
 * await migrate(db);
 * ```
 */
export function createSqliteDatabase<DB = any>(filenameOrDatabase: string | Database.Database): Kysely<DB> {
  const database =
    typeof filenameOrDatabase === 'string'
      ? new Database(filenameOrDatabase, { timeout: SQLITE_BUSY_TIMEOUT_MS })
      : filenameOrDatabase;
  configureSqlite(database);
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
}

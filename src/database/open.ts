import { Kysely, PostgresDialect, SqliteDialect, type PostgresPool, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { AuthKitError } from '../errors.js';

/** How long a SQLite writer waits for a lock before failing, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** A parsed `DATABASE_URL`. */
export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly filename: string }
  | { readonly dialect: 'postgres'; readonly connectionString: string };

const SUPPORTED_FORMS =
  'sqlite:///./relative.db, sqlite:////absolute/path.db, sqlite:///:memory:, a path ending in .db/.sqlite/.sqlite3, ' +
  'postgres://user:pass@host:5432/db or postgresql://…';

/**
 * Parses a database URL into a {@link DatabaseTarget}. An unsupported value fails with
 * `unsupported_database_url`, naming its scheme (never the whole value, which may hold a password)
 * and listing the supported forms.
 *
 * @example
 * ```ts
 * parseDatabaseUrl('sqlite:///./app.db'); // { dialect: 'sqlite', filename: './app.db' }
 * ```
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new AuthKitError('unsupported_database_url', `DATABASE_URL is empty. Supported forms: ${SUPPORTED_FORMS}`);
  }
  const value = url.trim();
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', connectionString: value };
  if (/^sqlite:/i.test(value)) {
    if (/^sqlite:\/\/$/i.test(value) || /^sqlite:\/\/\/:memory:$/i.test(value)) {
      return { dialect: 'sqlite', filename: ':memory:' };
    }
    const path = /^sqlite:\/\/\/(.+)$/i.exec(value)?.[1];
    if (path === undefined) {
      throw new AuthKitError(
        'unsupported_database_url',
        `A sqlite DATABASE_URL needs three slashes before the path. Supported forms: ${SUPPORTED_FORMS}`,
      );
    }
    return { dialect: 'sqlite', filename: path };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && /\.(db|sqlite|sqlite3)$/i.test(value)) {
    return { dialect: 'sqlite', filename: value };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  throw new AuthKitError(
    'unsupported_database_url',
    `Unsupported DATABASE_URL${scheme ? ` scheme "${scheme}:"` : ' (no scheme)'}. Supported forms: ${SUPPORTED_FORMS}`,
  );
}

/**
 * Replaces the password in a database URL with `***`, for messages.
 *
 * @example
 * ```ts
 * maskDatabaseUrl('postgres://app:s3cret@db/app'); // "postgres://app:***@db/app"
 * ```
 */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Sets WAL journaling (for files), `synchronous = FULL`, foreign keys and the busy timeout on a
 * better-sqlite3 handle.
 *
 * `synchronous = FULL` is set explicitly because better-sqlite3 is built with
 * `SQLITE_DEFAULT_WAL_SYNCHRONOUS=1`: without it a WAL database drops to `synchronous = NORMAL`
 * (`PRAGMA synchronous` reports 1 once the database is in use) and syncs only at checkpoints, so a
 * power loss or an OS crash could undo a committed logout-all, deactivation or password change.
 * With it every commit is synced to disk.
 *
 * @example
 * ```ts
 * const database = new Database('app.db');
 * configureSqlite(database); // before handing it to Kysely
 * ```
 */
export function configureSqlite(database: SqliteDatabase & { pragma?: (source: string) => unknown }): void {
  if (typeof database.pragma !== 'function') return;
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
}

/** Prepared statements kept per SQLite handle; enough for every query auth-kit runs. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The handle Kysely sees: the same database, but `prepare` returns a statement prepared earlier
 * for the same SQL when it is free. Kysely prepares every query anew, which costs more than running
 * the small indexed queries of a login or an authenticated request. A statement still being
 * iterated (a streamed query) is never handed out twice: a fresh one is prepared instead. The
 * oldest entries are dropped past 256 statements. `openDatabase` and `createSqliteDatabase` use it.
 *
 * @example
 * ```ts
 * const db = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(new Database('app.db')) }) });
 * ```
 */
export function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached !== undefined && !(cached as { busy?: boolean }).busy) return cached;
      const statement = database.prepare(sql);
      if (cached === undefined) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Wraps a better-sqlite3 database (or a factory for one, which is called lazily) in Kysely,
 * configured as auth-kit expects, with prepared statements reused ({@link withStatementCache}).
 */
export function kyselyForSqlite<DB>(database: SqliteDatabase | (() => Promise<SqliteDatabase>)): Kysely<DB> {
  const open = async () => {
    const handle = typeof database === 'function' ? await database() : database;
    configureSqlite(handle);
    return withStatementCache(handle);
  };
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: open }) });
}

/** Wraps a pg Pool (or a factory for one, which is called lazily) in Kysely. */
export function kyselyForPostgres<DB>(pool: PostgresPool | (() => Promise<PostgresPool>)): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Opens a better-sqlite3 file, loading the driver only now. */
export async function openSqliteFile(filename: string): Promise<SqliteDatabase> {
  const { default: Database } = await import('better-sqlite3');
  return new Database(filename, { timeout: SQLITE_BUSY_TIMEOUT_MS }) as unknown as SqliteDatabase;
}

/** Creates a pg Pool, loading the driver only now. */
export async function openPostgresPool(connectionString: string): Promise<PostgresPool> {
  const pg = await import('pg');
  const Pool = pg.Pool ?? (pg as unknown as { default: typeof pg }).default.Pool;
  return new Pool({ connectionString }) as unknown as PostgresPool;
}

/**
 * Opens a Kysely handle for a database URL. The driver (better-sqlite3 or pg) is loaded lazily on
 * the first query, so an app that only uses PostgreSQL never loads better-sqlite3. A URL that
 * cannot be parsed fails here, synchronously. Close the handle with `db.destroy()`.
 *
 * @example
 * ```ts
 * const db = openDatabase(process.env.DATABASE_URL ?? 'sqlite:///./app.db');
 * await migrate(db);
 * ```
 */
export function openDatabase<DB = any>(url: string): Kysely<DB> {
  const target = parseDatabaseUrl(url);
  return target.dialect === 'sqlite'
    ? kyselyForSqlite<DB>(() => openSqliteFile(target.filename))
    : kyselyForPostgres<DB>(() => openPostgresPool(target.connectionString));
}

/**
 * `auth-kit/postgres`: a Kysely handle over node-postgres.
 * @packageDocumentation
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';

/**
 * Creates a Kysely handle from a connection string, or from a `pg.Pool` the app already owns.
 * `db.destroy()` ends the pool.
 *
 * @example
 * ```ts
 * import { createPostgresDatabase } from 'auth-kit/postgres';
 * const db = createPostgresDatabase(process.env.DATABASE_URL!);
 * await migrate(db);
 * ```
 */
export function createPostgresDatabase<DB = any>(connectionStringOrPool: string | pg.Pool): Kysely<DB> {
  const pool =
    typeof connectionStringOrPool === 'string'
      ? new pg.Pool({ connectionString: connectionStringOrPool })
      : connectionStringOrPool;
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

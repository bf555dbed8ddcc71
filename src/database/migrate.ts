import * as kysely from 'kysely';
import { type Kysely, type MigrationProvider, type Migrator, sql } from 'kysely';
import { AuthKitError } from '../errors.js';
import { dialectOf } from './dialect.js';
import { migrations } from './migrations.js';

/** The table that records which auth-kit migrations ran (apart from the app's own Kysely table). */
export const MIGRATION_TABLE = 'auth_kit_migration';
/** The lock table that keeps two processes from migrating at once. */
export const MIGRATION_LOCK_TABLE = 'auth_kit_migration_lock';

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Names of the migrations applied by this call, in order; empty when already up to date. */
  readonly applied: readonly string[];
}

/** What {@link getMigrationStatus} found. */
export interface MigrationStatus {
  /** Applied migrations, oldest first. */
  readonly applied: readonly string[];
  /** Migrations in this version of auth-kit that have not run yet. */
  readonly pending: readonly string[];
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

type MigratorConstructor = new (props: ConstructorParameters<typeof Migrator>[0]) => Migrator;

/** kysely 0.28 exports `Migrator` from `kysely`; 0.29 moved it to `kysely/migration`. */
async function loadMigrator(): Promise<MigratorConstructor> {
  const fromRoot = (kysely as { Migrator?: MigratorConstructor }).Migrator;
  if (fromRoot) return fromRoot;
  const subpath = 'kysely/migration';
  const mod = (await import(/* @vite-ignore */ subpath)) as { Migrator: MigratorConstructor };
  return mod.Migrator;
}

async function createMigrator(db: Kysely<any>): Promise<Migrator> {
  const MigratorClass = await loadMigrator();
  let migrationTableSchema: string | undefined;
  if (dialectOf(db) === 'postgres') {
    // Kysely looks for its tables in every schema unless told one; pin it to the handle's own
    // schema so that apps (and tests) with several schemas migrate each one independently.
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema;
  }
  return new MigratorClass({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    migrationTableSchema,
  });
}

/**
 * Creates or upgrades auth-kit's tables. Idempotent; safe to call at every start, and from two
 * processes at once (Kysely's migration lock serialises them). The app's own tables and Kysely
 * migrations are untouched: auth-kit records its migrations in `auth_kit_migration`.
 *
 * @example
 * ```ts
 * const { applied } = await migrate(db);
 * if (applied.length) console.log('auth-kit migrations applied:', applied.join(', '));
 * ```
 */
export async function migrate(db: Kysely<any>): Promise<MigrateResult> {
  const migrator = await createMigrator(db);
  let { error, results = [] } = await migrator.migrateToLatest();
  // Before it runs anything, Kysely's migrator looks for its tables by listing every table of the
  // database; on PostgreSQL a schema or table that someone else drops meanwhile makes that listing
  // fail ("schema … does not exist"). Nothing has run then, so trying again is safe.
  for (let attempt = 1; error && results.length === 0 && isConcurrentDrop(error) && attempt < 5; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    ({ error, results = [] } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new AuthKitError(
      'migration_failed',
      failed ? `auth-kit migration ${failed} failed` : 'auth-kit migrations could not run',
      { cause: error },
    );
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** PostgreSQL: an object named in a catalog listing vanished (invalid_schema_name, undefined_table). */
function isConcurrentDrop(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '3F000' || code === '42P01';
}

/**
 * Lists applied and pending auth-kit migrations without changing anything.
 *
 * @example
 * ```ts
 * const { pending } = await getMigrationStatus(db);
 * if (pending.length) await migrate(db);
 * ```
 */
export async function getMigrationStatus(db: Kysely<any>): Promise<MigrationStatus> {
  const migrator = await createMigrator(db);
  let all;
  for (let attempt = 1; ; attempt++) {
    try {
      all = await migrator.getMigrations();
      break;
    } catch (err) {
      // The same catalog listing as in migrate(); see there.
      if (!isConcurrentDrop(err) || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}

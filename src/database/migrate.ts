import * as kysely from 'kysely';
import { type DatabaseIntrospector, type Kysely, type MigrationProvider, type Migrator, type TableMetadata, sql } from 'kysely';
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

/**
 * The schema a `db.withSchema()` handle puts its tables in, read from how it compiles a query
 * (the plugin keeps it private); undefined for a handle without one.
 */
function pluginSchema(db: Kysely<any>): string | undefined {
  const compiled = db.selectFrom('auth_kit_schema_probe').selectAll().compile().sql;
  const quoted = /from "((?:[^"]|"")+)"\."auth_kit_schema_probe"/.exec(compiled)?.[1];
  return quoted?.replace(/""/g, '"');
}

async function createMigrator(db: Kysely<any>): Promise<Migrator> {
  const MigratorClass = await loadMigrator();
  let migrationTableSchema: string | undefined;
  if (dialectOf(db) === 'postgres') {
    // Kysely looks for its tables in every schema unless told one; pin it to the handle's own
    // schema so that apps (and tests) with several schemas migrate each one independently.
    // A `db.withSchema('x')` handle creates the tables in x, so its migrations are recorded there too.
    migrationTableSchema = pluginSchema(db);
    if (migrationTableSchema === undefined) {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
      migrationTableSchema = rows[0]?.schema;
    }
  }
  return new MigratorClass({
    db: migrationTableSchema === undefined ? db : withSchemaScopedIntrospection(db, migrationTableSchema),
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    migrationTableSchema,
  });
}

/**
 * PostgreSQL: the handle as Kysely's migrator should see it. The migrator looks for its tables
 * through `db.introspection`, whose PostgreSQL version lists every table of every schema with
 * catalog functions — and fails ("schema … does not exist") when another session drops a schema
 * meanwhile. This introspector lists only `schema`, from plain catalog columns; everything else
 * is the handle itself (methods bound to it, since Kysely keeps private fields).
 */
function withSchemaScopedIntrospection(db: Kysely<any>, schema: string): Kysely<any> {
  const getTables = async (): Promise<TableMetadata[]> => {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm', 'f')`.execute(db);
    return rows.map((r) => ({ name: r.name, schema: r.schema, isView: r.kind === 'v' || r.kind === 'm', columns: [] }));
  };
  const introspection: DatabaseIntrospector = {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`
        select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
      return rows;
    },
    getTables,
    async getMetadata() {
      return { tables: await getTables() };
    },
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
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
  const { error, results = [] } = await migrator.migrateToLatest();
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
  const all = await migrator.getMigrations();
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getMigrationStatus, migrate, MIGRATION_TABLE } from 'auth-kit';
import { describeEachDialect, openPostgresSchema, postgresProblem, REQUIRE_PG, type TestDatabase } from './support/databases.js';

describeEachDialect('migrate', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('applies every migration once, then nothing; status follows', async () => {
    const before = await getMigrationStatus(t.db);
    expect(before.applied).toEqual([]);
    expect(before.pending.length).toBeGreaterThan(0);
    const first = await migrate(t.db);
    expect(first.applied).toEqual(before.pending);
    const second = await migrate(t.db);
    expect(second.applied).toEqual([]);
    const after = await getMigrationStatus(t.db);
    expect(after).toEqual({ applied: before.pending, pending: [] });
  });

  it('records its migrations in its own table, beside an app table and the app migration table', async () => {
    await t.db.schema.createTable('kysely_migration').addColumn('name', 'text').execute();
    await t.db.schema.createTable('app_things').addColumn('id', 'integer').execute();
    await migrate(t.db);
    const tables = (await t.db.introspection.getTables({ withInternalKyselyTables: true }))
      .filter((x) => !t.schema || x.schema === t.schema)
      .map((x) => x.name)
      .sort();
    expect(tables).toEqual(
      ['app_things', 'auth_kit_migration', 'auth_kit_migration_lock', 'auth_users', 'kysely_migration'].sort(),
    );
    const rows = await t.db.selectFrom(MIGRATION_TABLE).selectAll().execute();
    expect(rows.length).toBe((await getMigrationStatus(t.db)).applied.length);
    expect(await t.db.selectFrom('kysely_migration').selectAll().execute()).toEqual([]);
  });
});

describe('migrate on PostgreSQL from two connections at once', async () => {
  const problem = await postgresProblem();
  it.skipIf(problem !== null && !REQUIRE_PG)('applies each migration exactly once', async () => {
    const a = await openPostgresSchema();
    // A second, independent pool on the same schema.
    const { Kysely, PostgresDialect } = await import('kysely');
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: a.url });
    const b = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    try {
      const [ra, rb] = await Promise.all([migrate(a.db), migrate(b)]);
      const all = [...ra.applied, ...rb.applied].sort();
      const { applied } = await getMigrationStatus(a.db);
      expect(all).toEqual([...applied].sort());
      const rows = await a.db.selectFrom(MIGRATION_TABLE).select('name').execute();
      expect(rows.length).toBe(applied.length);
    } finally {
      await b.destroy();
      await a.cleanup();
    }
  });
});

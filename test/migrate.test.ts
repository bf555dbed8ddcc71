import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getMigrationStatus, migrate, MIGRATION_TABLE } from 'auth-kit';
import { describeEachDialect, openPostgresSchema, postgresProblem, REQUIRE_PG, type TestDatabase } from './support/databases.js';
import { builtPackageDir } from './support/dist.js';

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
    // Not db.introspection.getTables(): on PostgreSQL it lists every schema of the database and
    // fails when another test drops its schema meanwhile.
    const listed =
      t.dialect === 'postgres'
        ? sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`
        : sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`;
    const tables = (await listed.execute(t.db)).rows.map((r) => r.name).sort();
    // The app's tables are untouched; everything else is auth-kit's own, prefixed `auth_`.
    expect(tables.filter((name) => !name.startsWith('auth_'))).toEqual(['app_things', 'kysely_migration']);
    expect(tables).toEqual(expect.arrayContaining(['auth_kit_migration', 'auth_kit_migration_lock', 'auth_users']));
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

/**
 * A child process running the BUILT package: it connects, says "ready", waits for a line on
 * stdin, then migrates and prints what it applied. Two of them are released together.
 */
function migratingProcess(url: string, pkgDir: string) {
  const script = `
    import { sql } from 'kysely';
    import { openDatabase, migrate } from 'auth-kit';
    const db = openDatabase(process.env.AK_URL);
    await sql\`select 1\`.execute(db);
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    try {
      const { applied } = await migrate(db);
      process.stdout.write(JSON.stringify({ applied }) + '\\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: err.message, cause: String(err.cause) }) + '\\n');
      process.exitCode = 1;
    } finally {
      await db.destroy();
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: pkgDir, env: { ...process.env, AK_URL: url } });
  let out = '';
  let err = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; result: { applied?: string[]; error?: string } }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ code, result: JSON.parse(last) });
      } catch {
        reject(new Error(`migrating process printed ${JSON.stringify(out)}; stderr: ${err}`));
      }
    });
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

describe('migrate on PostgreSQL from two processes at once', async () => {
  const problem = await postgresProblem();
  let pkgDir: string;
  beforeAll(async () => {
    if (problem === null || REQUIRE_PG) pkgDir = await builtPackageDir();
  }, 300_000);

  it.skipIf(problem !== null && !REQUIRE_PG)(
    'each migration is applied exactly once, with no error in either process (2 rounds)',
    async () => {
      for (let round = 0; round < 2; round++) {
        const t = await openPostgresSchema();
        try {
          const a = migratingProcess(t.url, pkgDir);
          const b = migratingProcess(t.url, pkgDir);
          await Promise.all([a.ready, b.ready]);
          a.go();
          b.go();
          const [ra, rb] = await Promise.all([a.done, b.done]);
          expect(ra, JSON.stringify(ra)).toMatchObject({ code: 0 });
          expect(rb, JSON.stringify(rb)).toMatchObject({ code: 0 });
          const { applied, pending } = await getMigrationStatus(t.db);
          expect(pending).toEqual([]);
          const both = [...ra.result.applied!, ...rb.result.applied!];
          expect(both.sort()).toEqual([...applied].sort());
          const rows = await t.db.selectFrom(MIGRATION_TABLE).select('name').execute();
          expect(rows.map((r) => r.name).sort()).toEqual([...applied].sort());
          expect(await t.db.selectFrom('auth_users').selectAll().execute()).toEqual([]);
        } finally {
          await t.cleanup();
        }
      }
    },
    120_000,
  );
});

describe('migrate on PostgreSQL while other schemas come and go', async () => {
  const problem = await postgresProblem();
  it.skipIf(problem !== null && !REQUIRE_PG)(
    'is not derailed by a schema dropped during its catalog lookups',
    async () => {
      // Another tenant / test file creating and dropping schemas as fast as it can.
      const { Client } = (await import('pg')).default;
      const churn = new Client({ connectionString: process.env.AUTH_KIT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
      await churn.connect();
      let stop = false;
      let cycles = 0;
      const churning = (async () => {
        while (!stop) {
          const name = `ak_churn_${process.pid}_${cycles++}`;
          await churn.query(`create schema ${name}; create table ${name}.t (id integer generated by default as identity, v text)`);
          await churn.query(`drop schema ${name} cascade`);
        }
      })();
      try {
        for (let i = 0; i < 6; i++) {
          const t = await openPostgresSchema();
          try {
            const { applied } = await migrate(t.db);
            expect(applied.length).toBeGreaterThan(0);
            expect((await getMigrationStatus(t.db)).pending).toEqual([]);
          } finally {
            await t.cleanup();
          }
        }
      } finally {
        stop = true;
        await churning;
        await churn.end();
      }
      expect(cycles).toBeGreaterThan(0);
    },
    120_000,
  );
});

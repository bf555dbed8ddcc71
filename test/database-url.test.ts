/**
 * openDatabase(url): every supported form opens and works, anything else fails with
 * `unsupported_database_url` naming the scheme (never a password); SQLite pragmas; drivers load
 * lazily (checked on the BUILT package in child processes); and the core runs on a Kysely
 * instance the app built itself, on either dialect.
 */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureSqlite,
  createAuth,
  createUserService,
  createPasswordHasher,
  migrate,
  openDatabase,
  parseDatabaseUrl,
} from 'auth-kit';
import { createPostgresDatabase } from 'auth-kit/postgres';
import { createSqliteDatabase } from 'auth-kit/sqlite';
import { REQUIRE_PG, openPostgresSchema, postgresProblem, type TestDatabase } from './support/databases.js';
import { builtPackageDir, runNode } from './support/dist.js';
import { GOOD_PASSWORD, expectAuthKitError, newSecret } from './support/helpers.js';

const pgProblem = await postgresProblem();
const pgIt = it.skipIf(pgProblem !== null && !REQUIRE_PG);
if (pgProblem !== null && !REQUIRE_PG) console.warn(`[auth-kit tests] SKIPPING PostgreSQL cases of database-url.test.ts: ${pgProblem}`);

const hasher = createPasswordHasher({ maxConcurrent: 2 });

/** Migrates, writes and reads through the user service: proof that a handle really works. */
async function exercise(db: Kysely<any>): Promise<void> {
  await migrate(db);
  const users = createUserService(db, { passwords: hasher });
  const user = await users.createUser({ email: 'Probe@Example.com', password: GOOD_PASSWORD });
  expect(user.createdAt).toBeInstanceOf(Date);
  expect(typeof user.isActive).toBe('boolean');
  expect((await users.getUserByEmail('probe@example.com'))!.id).toBe(user.id);
  expect(await users.countUsers()).toBe(1);
}

async function pragma(db: Kysely<any>, name: string): Promise<unknown> {
  const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db);
  return Object.values(rows[0])[0];
}

describe('parseDatabaseUrl / openDatabase: supported forms', () => {
  let dir: string;
  const cwd = process.cwd();
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'auth-kit-url-')));
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses every documented form', () => {
    expect(parseDatabaseUrl('sqlite:///./app.db')).toEqual({ dialect: 'sqlite', filename: './app.db' });
    expect(parseDatabaseUrl('sqlite:////var/data/app.db')).toEqual({ dialect: 'sqlite', filename: '/var/data/app.db' });
    expect(parseDatabaseUrl('sqlite:///:memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseDatabaseUrl('app.db')).toEqual({ dialect: 'sqlite', filename: 'app.db' });
    expect(parseDatabaseUrl('/srv/app.sqlite')).toEqual({ dialect: 'sqlite', filename: '/srv/app.sqlite' });
    expect(parseDatabaseUrl('./data/app.sqlite3')).toEqual({ dialect: 'sqlite', filename: './data/app.sqlite3' });
    expect(parseDatabaseUrl('postgres://u:p@h:5432/d')).toEqual({ dialect: 'postgres', connectionString: 'postgres://u:p@h:5432/d' });
    expect(parseDatabaseUrl('postgresql://h/d')).toEqual({ dialect: 'postgres', connectionString: 'postgresql://h/d' });
  });

  it('sqlite:///./rel.db is relative to the working directory and creates the file', async () => {
    process.chdir(dir);
    try {
      const db = openDatabase('sqlite:///./rel.db');
      try {
        await exercise(db);
        expect(await pragma(db, 'journal_mode')).toBe('wal');
      } finally {
        await db.destroy();
      }
      expect(existsSync(join(dir, 'rel.db'))).toBe(true);
      expect(existsSync(join(cwd, 'rel.db'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('sqlite:////abs/path.db opens that absolute path', async () => {
    const file = join(dir, 'nested-abs.db');
    expect(file.startsWith('/')).toBe(true);
    const db = openDatabase(`sqlite:///${file}`);
    try {
      await exercise(db);
    } finally {
      await db.destroy();
    }
    expect(existsSync(file)).toBe(true);
  });

  it('sqlite:///:memory: opens a private in-memory database and creates no file', async () => {
    process.chdir(dir);
    try {
      const a = openDatabase('sqlite:///:memory:');
      const b = openDatabase('sqlite:///:memory:');
      try {
        await exercise(a);
        await migrate(b);
        expect(await createUserService(b, { passwords: hasher }).countUsers()).toBe(0);
      } finally {
        await a.destroy();
        await b.destroy();
      }
      expect(existsSync(join(dir, ':memory:'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a plain path ending in .db or .sqlite opens that file', async () => {
    process.chdir(dir);
    try {
      for (const [url, file] of [
        ['plain.db', join(dir, 'plain.db')],
        [join(dir, 'absolute.sqlite'), join(dir, 'absolute.sqlite')],
      ]) {
        const db = openDatabase(url);
        try {
          await exercise(db);
        } finally {
          await db.destroy();
        }
        expect(existsSync(file), url).toBe(true);
      }
    } finally {
      process.chdir(cwd);
    }
  });

  pgIt('postgres:// and postgresql:// open PostgreSQL', async () => {
    for (const scheme of ['postgres', 'postgresql']) {
      const t = await openPostgresSchema();
      const url = t.url.replace(/^postgres(ql)?:/, `${scheme}:`);
      const db = openDatabase(url);
      try {
        await exercise(db);
        const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(db);
        expect(rows[0].s).toBe(t.schema);
      } finally {
        await db.destroy();
        await t.cleanup();
      }
    }
  });
});

describe('openDatabase: unsupported values', () => {
  const cases: [string, string | null][] = [
    ['mysql://root:hunter2-secret@db.internal:3306/app', 'mysql'],
    ['http://admin:hunter2-secret@example.com/app.db', 'http'],
    ['mongodb+srv://u:hunter2-secret@cluster0.example.net/app', 'mongodb+srv'],
    ['sqlite://host/x.db', 'sqlite'],
    ['sqlite://user:hunter2-secret@host/x.db', 'sqlite'],
    ['postgres:/one-slash', 'postgres'],
    ['app.txt', null],
    ['', null],
    ['   ', null],
  ];
  it.each(cases)('%j fails with unsupported_database_url', async (url, scheme) => {
    for (const attempt of [() => parseDatabaseUrl(url), () => openDatabase(url)]) {
      const err = await expectAuthKitError(attempt, 'unsupported_database_url');
      // The scheme is named in the problem statement, before the list of supported forms.
      if (scheme) expect(err.message.split('Supported forms')[0].toLowerCase()).toContain(scheme);
      // It lists the supported forms...
      expect(err.message).toContain('sqlite:///./');
      expect(err.message).toContain('sqlite:////');
      expect(err.message).toContain(':memory:');
      expect(err.message).toContain('postgres://');
      expect(err.message).toContain('postgresql://');
      // ...and never the password.
      expect(err.message).not.toContain('hunter2');
      expect(JSON.stringify(err)).not.toContain('hunter2');
    }
  });

  it('a non-string is refused the same way', async () => {
    for (const url of [undefined, null, 42, {}]) {
      await expectAuthKitError(() => openDatabase(url as never), 'unsupported_database_url');
    }
  });
});

describe('SQLite handles are configured: WAL (files), synchronous = FULL, foreign keys, busy timeout', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-kit-pragma-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps synchronous = FULL on WAL files, in use and reopened (better-sqlite3 alone drops to NORMAL)', async () => {
    const file = join(dir, 'sync.db');
    const synchronous = (database: InstanceType<typeof Database>) => database.pragma('synchronous', { simple: true });
    // What better-sqlite3 does by itself once a WAL database is in use: 1 (NORMAL, syncs only at checkpoints).
    const plain = new Database(join(dir, 'plain.db'));
    plain.pragma('journal_mode = WAL');
    plain.exec('create table t (x)');
    expect(synchronous(plain)).toBe(1);
    plain.close();

    const first = new Database(file);
    configureSqlite(first);
    first.exec('create table t (x)');
    first.prepare('insert into t values (1)').run();
    expect(synchronous(first)).toBe(2);
    first.close();
    // An existing WAL file, opened again through each of auth-kit's entry points.
    const again = new Database(file);
    configureSqlite(again);
    again.prepare('select * from t').all();
    expect(synchronous(again)).toBe(2);
    again.close();
    for (const db of [openDatabase(`sqlite:///${file}`), createSqliteDatabase(file)]) {
      try {
        await sql`select * from t`.execute(db);
        expect(await pragma(db, 'synchronous')).toBe(2);
      } finally {
        await db.destroy();
      }
    }
  });

  it('for openDatabase and createSqliteDatabase, file and memory', async () => {
    const handles: [string, Kysely<any>, boolean][] = [
      ['openDatabase(file)', openDatabase(`sqlite:///${join(dir, 'a.db')}`), true],
      ['openDatabase(memory)', openDatabase('sqlite:///:memory:'), false],
      ['createSqliteDatabase(path)', createSqliteDatabase(join(dir, 'b.db')), true],
      ['createSqliteDatabase(app Database)', createSqliteDatabase(new Database(join(dir, 'c.db'), { timeout: 0 })), true],
    ];
    for (const [label, db, file] of handles) {
      try {
        expect(await pragma(db, 'foreign_keys'), label).toBe(1);
        expect(Number(await pragma(db, 'busy_timeout')), label).toBeGreaterThan(0);
        expect(await pragma(db, 'journal_mode'), label).toBe(file ? 'wal' : 'memory');
      } finally {
        await db.destroy();
      }
    }
  });
});

describe('the core on a Kysely instance the app built itself', () => {
  async function fullFlow(db: Kysely<any>): Promise<void> {
    expect((await migrate(db)).applied.length).toBeGreaterThan(0);
    const auth = createAuth({ db, settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 2 } });
    const user = await auth.register({ email: 'App@Example.com', password: GOOD_PASSWORD });
    const { accessToken } = await auth.login({ username: 'app@example.com', password: GOOD_PASSWORD });
    expect(await auth.authenticate(accessToken)).toEqual(user);
    expect((await auth.users.listUsers()).users.map((u) => u.id)).toEqual([user.id]);
    expect(await auth.users.findExistingEmailsWithPrefix('app', 'example.com')).toEqual(['app@example.com']);
    expect((await migrate(db)).applied).toEqual([]);
  }

  it('SQLite: new Kysely({ dialect: new SqliteDialect(...) }), with the app tables beside ours', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    try {
      await db.schema.createTable('orders').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
      await fullFlow(db);
      expect(await db.selectFrom('orders').selectAll().execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('SQLite: an app handle with CamelCasePlugin (its rows come back camelCased) still works', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }), plugins: [new CamelCasePlugin()] });
    try {
      await db.schema.createTable('orderLines').addColumn('lineId', 'integer').execute();
      await fullFlow(db);
      // The app's own queries keep their plugin.
      await db.insertInto('orderLines').values({ lineId: 7 }).execute();
      expect(await db.selectFrom('orderLines').selectAll().execute()).toEqual([{ lineId: 7 }]);
      const { rows } = await sql<{ name: string }>`select name from pragma_table_info('order_lines')`.execute(db.withoutPlugins());
      expect(rows.map((r) => r.name)).toEqual(['line_id']);
    } finally {
      await db.destroy();
    }
  });

  pgIt('PostgreSQL: new Kysely({ dialect: new PostgresDialect(...) }), createPostgresDatabase(pool), and with CamelCasePlugin', async () => {
    for (const make of [
      (url: string) => new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }) }),
      (url: string) => createPostgresDatabase(new pg.Pool({ connectionString: url, max: 4 })),
      (url: string) =>
        new Kysely<any>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
          plugins: [new CamelCasePlugin()],
        }),
    ]) {
      const t: TestDatabase = await openPostgresSchema();
      const db = make(t.url);
      try {
        await fullFlow(db);
      } finally {
        await db.destroy();
        await t.cleanup();
      }
    }
  });
});

describe('drivers load lazily (built package, child processes)', () => {
  let pkgDir: string;
  beforeAll(async () => {
    pkgDir = await builtPackageDir();
  }, 300_000);

  /** A child that opens `url` with the built 'auth-kit', uses it, and reports which drivers it loaded. */
  const esmChild = `
    import { createRequire } from 'node:module';
    import { openDatabase, migrate, createUserService } from 'auth-kit';
    const db = openDatabase(process.env.AK_URL);
    await migrate(db);
    const count = await createUserService(db).countUsers();
    await db.destroy();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      count,
      sqlite: loaded.some((k) => k.includes('/node_modules/better-sqlite3/')),
      pg: loaded.some((k) => k.includes('/node_modules/pg/')),
    }));
  `;
  const cjsChild = `
    const { openDatabase, migrate, createUserService } = require('auth-kit');
    (async () => {
      const db = openDatabase(process.env.AK_URL);
      await migrate(db);
      const count = await createUserService(db).countUsers();
      await db.destroy();
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({
        count,
        sqlite: loaded.some((k) => k.includes('/node_modules/better-sqlite3/')),
        pg: loaded.some((k) => k.includes('/node_modules/pg/')),
      }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;

  async function run(kind: 'esm' | 'cjs', url: string) {
    const args = kind === 'esm' ? ['--input-type=module', '-e', esmChild] : ['-e', cjsChild];
    const res = await runNode(args, { cwd: pkgDir, env: { AK_URL: url } });
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { count: number; sqlite: boolean; pg: boolean };
  }

  it.each(['esm', 'cjs'] as const)('%s: an app on SQLite never loads pg', async (kind) => {
    expect(await run(kind, 'sqlite:///:memory:')).toEqual({ count: 0, sqlite: true, pg: false });
  });

  pgIt.each(['esm', 'cjs'] as const)('%s: an app on PostgreSQL never loads better-sqlite3', async (kind) => {
    const t = await openPostgresSchema();
    try {
      expect(await run(kind, t.url)).toEqual({ count: 0, sqlite: false, pg: true });
    } finally {
      await t.cleanup();
    }
  });

  it('importing auth-kit alone loads neither driver; auth-kit/postgres does not load better-sqlite3', async () => {
    const res = await runNode([
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module';
      const has = (name) => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/' + name + '/'));
      await import('auth-kit');
      const core = { sqlite: has('better-sqlite3'), pg: has('pg') };
      await import('auth-kit/postgres');
      const withPg = { sqlite: has('better-sqlite3'), pg: has('pg') };
      console.log(JSON.stringify({ core, withPg }));
      `,
    ], { cwd: pkgDir });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout.trim())).toEqual({ core: { sqlite: false, pg: false }, withPg: { sqlite: false, pg: true } });
  });
});

/**
 * The hot-path helpers: queries built once per handle (prepareQuery) and prepared statements
 * reused per SQLite handle (withStatementCache). Both must give exactly what the plain Kysely
 * query gives, on every dialect, inside and outside transactions.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrate, withStatementCache } from 'auth-kit';
import { prepareQuery } from '../src/database/prepared.js';
import { describeEachDialect, type TestDatabase } from './support/databases.js';

describeEachDialect('prepareQuery', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
  });
  afterEach(() => t.cleanup());

  const insertEvent = (db: Kysely<any>, type: string, email: string | null, createdAt: string) =>
    db.insertInto('auth_events').values({ type, email, user_id: null, created_at: createdAt }).returning(['id', 'email']);
  const eventsByEmail = (db: Kysely<any>, email: string, since: string) =>
    db
      .selectFrom('auth_events')
      .select(['id', 'type', 'email'])
      .where('email', '=', email)
      .where('type', '=', 'login_failed')
      .where('created_at', '>', since)
      .orderBy('id');

  it('returns what the same query built and executed directly returns', async () => {
    const insert = prepareQuery(3, insertEvent);
    const select = prepareQuery(2, eventsByEmail);
    const a = await insert(t.db, 'login_failed', 'ada@example.com', '2030-01-01T00:00:00.000Z');
    const b = await insertEvent(t.db, 'login_failed', 'ada@example.com', '2030-01-02T00:00:00.000Z').execute();
    await insert(t.db, 'login_failed', null, '2030-01-03T00:00:00.000Z');
    await insert(t.db, 'logout', 'ada@example.com', '2030-01-04T00:00:00.000Z');
    expect(a.rows).toEqual([{ id: expect.anything(), email: 'ada@example.com' }]);
    expect(Number(b[0].id)).toBe(Number(a.rows[0].id) + 1);

    for (const since of ['2029-12-31T00:00:00.000Z', '2030-01-01T12:00:00.000Z', '2031-01-01T00:00:00.000Z']) {
      const prepared = await select(t.db, 'ada@example.com', since);
      const direct = await eventsByEmail(t.db, 'ada@example.com', since).execute();
      expect(prepared.rows).toEqual(direct);
    }
    expect((await select(t.db, 'ada@example.com', '2029-12-31T00:00:00.000Z')).rows).toHaveLength(2);
    // A value that would be a wildcard or an injection in hand-made SQL is just a value.
    expect((await select(t.db, "ada@example.com' or '1'='1", '2000-01-01T00:00:00.000Z')).rows).toEqual([]);
  });

  it('builds the query once for a handle and all its transactions', async () => {
    const build = vi.fn(eventsByEmail);
    const select = prepareQuery(2, build);
    await select(t.db, 'ada@example.com', '2030-01-01T00:00:00.000Z');
    await select(t.db, 'bob@example.com', '2030-01-01T00:00:00.000Z');
    await t.db.transaction().execute(async (trx) => {
      await select(trx, 'ada@example.com', '2030-01-01T00:00:00.000Z');
    });
    await t.db.transaction().execute((trx) => select(trx, 'ada@example.com', '2030-01-01T00:00:00.000Z'));
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('runs inside the transaction it is given: a rollback undoes its insert', async () => {
    const insert = prepareQuery(3, insertEvent);
    const failure = new Error('roll back');
    await expect(
      t.db.transaction().execute(async (trx) => {
        await insert(trx, 'logout', 'ada@example.com', '2030-01-01T00:00:00.000Z');
        throw failure;
      }),
    ).rejects.toBe(failure);
    const { count } = await t.db
      .selectFrom('auth_events')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(0);
  });

  it('refuses a builder that does not pass its arguments through as values', async () => {
    const broken = prepareQuery(2, (db: Kysely<any>, email: string, _unused: string) =>
      db.selectFrom('auth_events').select('id').where('email', '=', email.toLowerCase()),
    );
    await expect(broken(t.db, 'ada@example.com', 'x')).rejects.toThrow(/uses 0 of its 2 arguments/);
  });

  if (dialect.name === 'postgres') {
    it('keeps a separate compiled form for a handle with another schema', async () => {
      const other = `${t.schema}_other`;
      await sql`create schema ${sql.id(other)}`.execute(t.db);
      try {
        const otherDb = t.db.withSchema(other);
        // Its migrations are recorded in its own schema, so they run even though t.db is migrated.
        expect((await migrate(otherDb)).applied.length).toBeGreaterThan(0);
        const insert = prepareQuery(3, insertEvent);
        await insert(t.db, 'logout', 'ada@example.com', '2030-01-01T00:00:00.000Z');
        await insert(otherDb, 'logout', 'bob@example.com', '2030-01-01T00:00:00.000Z');
        await insert(otherDb, 'logout', 'eve@example.com', '2030-01-01T00:00:00.000Z');
        const emails = async (db: Kysely<any>) =>
          (await db.selectFrom('auth_events').select('email').orderBy('id').execute()).map((r) => r.email);
        expect(await emails(t.db)).toEqual(['ada@example.com']);
        expect(await emails(otherDb)).toEqual(['bob@example.com', 'eve@example.com']);
      } finally {
        await sql`drop schema ${sql.id(other)} cascade`.execute(t.db);
      }
    });
  }
});

describe('withStatementCache', () => {
  let raw: Database.Database;
  beforeEach(() => {
    raw = new Database(':memory:');
    raw.exec('create table n (v integer)');
    raw.exec('insert into n (v) values (1), (2), (3)');
  });
  afterEach(() => {
    if (raw.open) raw.close();
  });

  it('hands out the statement prepared earlier for the same SQL', () => {
    const prepare = vi.spyOn(raw, 'prepare');
    const cached = withStatementCache(raw);
    const first = cached.prepare('select v from n order by v');
    const second = cached.prepare('select v from n order by v');
    expect(second).toBe(first);
    expect(prepare).toHaveBeenCalledTimes(1);
    expect(cached.prepare('select v from n where v > 1')).not.toBe(first);
    expect(prepare).toHaveBeenCalledTimes(2);
  });

  it('prepares a fresh statement while the cached one is still being iterated', () => {
    const cached = withStatementCache(raw);
    const first = cached.prepare('select v from n order by v') as unknown as Database.Statement;
    const iterator = first.iterate();
    expect(iterator.next().value).toEqual({ v: 1 });
    // A streamed query keeps its statement busy: the same SQL must get another statement meanwhile.
    const meanwhile = cached.prepare('select v from n order by v');
    expect(meanwhile).not.toBe(first);
    iterator.return?.();
    expect(cached.prepare('select v from n order by v')).toBe(first);
  });

  it('closes the database when Kysely destroys the handle', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
    expect(await db.selectFrom('n').select('v').orderBy('v').execute()).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    await db.destroy();
    expect(raw.open).toBe(false);
  });

  it('keeps at most 256 statements, dropping the oldest', () => {
    const prepare = vi.spyOn(raw, 'prepare');
    const cached = withStatementCache(raw);
    const oldest = cached.prepare('select 0');
    for (let i = 1; i <= 256; i++) cached.prepare(`select ${i}`);
    expect(prepare).toHaveBeenCalledTimes(257);
    expect(cached.prepare('select 256')).toBe(cached.prepare('select 256'));
    expect(prepare).toHaveBeenCalledTimes(257);
    expect(cached.prepare('select 0')).not.toBe(oldest);
    expect(prepare).toHaveBeenCalledTimes(258);
  });
});

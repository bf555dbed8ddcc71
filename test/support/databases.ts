/**
 * The dialect loop: every storage test runs on SQLite (in memory and a temp file) and on
 * PostgreSQL. PostgreSQL is reached at AUTH_KIT_TEST_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test); each opened database gets its own schema, dropped at
 * cleanup, so parallel test files never collide. When PostgreSQL is unreachable its tests skip
 * with a visible message, unless AUTH_KIT_REQUIRE_PG=1, where they fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, it } from 'vitest';
import { createSqliteDatabase } from 'auth-kit/sqlite';

export type DialectCaseName = 'sqlite-memory' | 'sqlite-file' | 'postgres';

export interface TestDatabase {
  readonly name: DialectCaseName;
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Kysely<any>;
  /** For PostgreSQL: the connection string and schema, so a child process can reach the same tables. */
  readonly url: string;
  readonly schema?: string;
  cleanup(): Promise<void>;
}

export const PG_URL = process.env.AUTH_KIT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REQUIRE_PG = process.env.AUTH_KIT_REQUIRE_PG === '1';

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let pgProblem: Promise<string | null> | undefined;
/** Null when PostgreSQL answers, else why not. Probed once per test file. */
export function postgresProblem(): Promise<string | null> {
  pgProblem ??= probePostgres();
  return pgProblem;
}

/** Opens a fresh PostgreSQL schema with its own pool; cleanup drops it. */
export async function openPostgresSchema(): Promise<TestDatabase> {
  const schema = `ak_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 10 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    name: 'postgres',
    dialect: 'postgres',
    db,
    url,
    schema,
    async cleanup() {
      await db.destroy();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** Opens a SQLite database in memory or in a temp file. */
export function openSqlite(kind: 'memory' | 'file'): TestDatabase {
  if (kind === 'memory') {
    const db = createSqliteDatabase(new Database(':memory:'));
    return { name: 'sqlite-memory', dialect: 'sqlite', db, url: 'sqlite:///:memory:', cleanup: () => db.destroy() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'auth-kit-test-'));
  const file = join(dir, 'test.db');
  const db = createSqliteDatabase(file);
  return {
    name: 'sqlite-file',
    dialect: 'sqlite',
    db,
    url: `sqlite:///${file}`,
    async cleanup() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DialectCase {
  readonly name: DialectCaseName;
  open(): Promise<TestDatabase>;
}

/** The dialect loop; AUTH_KIT_TEST_DIALECTS=sqlite-memory,postgres narrows it. */
export const DIALECTS: readonly DialectCase[] = (
  [
    { name: 'sqlite-memory', open: async () => openSqlite('memory') },
    { name: 'sqlite-file', open: async () => openSqlite('file') },
    { name: 'postgres', open: openPostgresSchema },
  ] satisfies DialectCase[]
).filter((c) => !process.env.AUTH_KIT_TEST_DIALECTS || process.env.AUTH_KIT_TEST_DIALECTS.split(',').includes(c.name));

const pgSkipReason = await postgresProblem();

/**
 * `describe` once per dialect. PostgreSQL: skipped with a visible message when unreachable, or a
 * failing test in its place when AUTH_KIT_REQUIRE_PG=1.
 *
 * @example
 * describeEachDialect('users', (dialect) => { ... dialect.name ... });
 */
export function describeEachDialect(title: string, body: (dialect: DialectCase) => void): void {
  for (const dialect of DIALECTS) {
    if (dialect.name === 'postgres' && pgSkipReason !== null) {
      if (REQUIRE_PG) {
        describe(`${title} [postgres]`, () => {
          it('needs PostgreSQL (AUTH_KIT_REQUIRE_PG=1)', () => {
            throw new Error(`PostgreSQL at ${PG_URL} is unreachable: ${pgSkipReason}`);
          });
        });
      } else {
        console.warn(`[auth-kit tests] SKIPPING PostgreSQL tests of "${title}": ${PG_URL} unreachable (${pgSkipReason})`);
        describe.skip(`${title} [postgres] (PostgreSQL unreachable)`, () => body(dialect));
      }
      continue;
    }
    describe(`${title} [${dialect.name}]`, () => body(dialect));
  }
}

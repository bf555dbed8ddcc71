/**
 * The `auth-kit` bin, run for real: `node dist/cli/index.js` as a child process against a temp
 * SQLite file (in a temp working directory) and against PostgreSQL (its own schema, reached through
 * the URL's `options=-c search_path=…`). Results are checked through the library on the same
 * database. Every run also checks that no escape code reaches a pipe.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type User,
  createAuth,
  createPasswordHasher,
  createUserService,
  getMigrationStatus,
  isAuthKitError,
  migrate,
  nextAvailableEmails,
  openDatabase,
  resolveSettings,
  seedUsers,
} from 'auth-kit';
import { type CliOptions, ROOT, SLOW, cli, ESC, expectFailure, expectOk, hasScript, runCliInTerminal, useTempDirs } from './support/cli.js';
import {
  type TestDatabase,
  describeEachDialect,
  openPostgresSchema,
  openSqlite,
  postgresProblem,
  REQUIRE_PG,
  PG_URL,
} from './support/databases.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const hasher = createPasswordHasher({ maxConcurrent: 2 });
const tempDir = useTempDirs('auth-kit-cli-');

interface SeedJson {
  created: { id: number; email: string; fullName: string | null; isActive: boolean; createdAt: string; password: string | null }[];
  skipped: string[];
}

/** A login through the library on the same database: the real proof a password works. */
async function canLogIn(db: Kysely<any>, email: string, password: string): Promise<boolean> {
  const auth = createAuth({ db, settings: { jwtSecretKey: randomBytes(32).toString('base64url') } });
  try {
    await auth.login({ username: email, password });
    return true;
  } catch (err) {
    if (isAuthKitError(err, 'invalid_credentials')) return false;
    throw err;
  }
}

interface Target {
  readonly name: 'sqlite-file' | 'postgres';
  open(): Promise<TestDatabase>;
}

const TARGETS: Target[] = [
  { name: 'sqlite-file', open: async () => openSqlite('file') },
  { name: 'postgres', open: openPostgresSchema },
];
const pgProblem = await postgresProblem();

for (const target of TARGETS) {
  const skip = target.name === 'postgres' && pgProblem !== null && !REQUIRE_PG;
  if (skip) console.warn(`[auth-kit tests] SKIPPING the CLI on PostgreSQL: ${PG_URL} unreachable (${pgProblem})`);

  describe.skipIf(skip)(`auth-kit bin [${target.name}]`, SLOW, () => {
    let t: TestDatabase;
    let cwd: string;
    /** Runs the bin against this target's database from a temp working directory. */
    const run = (args: readonly string[], options: CliOptions = {}) =>
      cli([...args, '--database-url', t.url], { cwd, ...options });
    const users = () => createUserService(t.db, { passwords: hasher });
    const seedJson = async (args: readonly string[], options: CliOptions = {}): Promise<SeedJson> => {
      const result = await run(['seed', ...args, '--json'], options);
      expectOk(result);
      return JSON.parse(result.stdout) as SeedJson;
    };

    beforeEach(async () => {
      if (target.name === 'postgres' && pgProblem !== null) throw new Error(`PostgreSQL unreachable: ${pgProblem}`);
      t = await target.open();
      cwd = tempDir();
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('migrate --status changes nothing; migrate applies and lists; then it is up to date', async () => {
      const status = await run(['migrate', '--status']);
      expectOk(status);
      const expected = (await getMigrationStatus(t.db)).pending;
      expect(expected.length).toBeGreaterThan(0);
      for (const name of expected) expect(status.stdout).toMatch(new RegExp(`pending\\s+${name}`));
      expect(status.stdout).toContain(`0 applied, ${expected.length} pending`);
      expect(await getMigrationStatus(t.db)).toEqual({ applied: [], pending: expected });

      const statusJson = await run(['migrate', '--status', '--json']);
      expect(JSON.parse(statusJson.stdout)).toEqual({ applied: [], pending: expected });

      const applied = await run(['migrate']);
      expectOk(applied);
      for (const name of expected) expect(applied.stdout).toMatch(new RegExp(`applied\\s+${name}`));
      expect(await getMigrationStatus(t.db)).toEqual({ applied: expected, pending: [] });

      const again = await run(['migrate']);
      expectOk(again);
      expect(again.stdout).toContain('up to date');
      expect(JSON.parse((await run(['migrate', '--status', '--json'])).stdout)).toEqual({ applied: expected, pending: [] });
      const after = await run(['migrate', '--status']);
      for (const name of expected) expect(after.stdout).toMatch(new RegExp(`applied\\s+${name}`));
      expect(after.stdout).toContain(`${expected.length} applied, 0 pending`);
    });

    it('user commands on a database without auth-kit tables fail and say to migrate', async () => {
      for (const args of [['users', 'list'], ['users', 'deactivate', 'a@example.com']]) {
        const line = expectFailure(await run(args), 1, `auth-kit ${args.slice(0, 2).join(' ')}`);
        expect(line).toContain('auth-kit migrate');
      }
    });

    it('seed migrates a fresh database (notes on stderr with --json) and creates test@example.com', async () => {
      const result = await run(['seed', '--json']);
      expectOk(result);
      const out = JSON.parse(result.stdout) as SeedJson;
      expect(result.stderr).toMatch(/applied \d+ auth-kit migration/i);
      expect(out.created.map((c) => c.email)).toEqual(['test@example.com']);
      expect(out.skipped).toEqual([]);
      const generated = out.created[0].password!;
      expect(generated.length).toBeGreaterThanOrEqual(16);
      expect(await canLogIn(t.db, 'test@example.com', generated)).toBe(true);
      expect((await getMigrationStatus(t.db)).pending).toEqual([]);

      // Human output: a table with the generated password, shown once.
      const human = await run(['seed']);
      expectOk(human);
      expect(human.stdout).toContain('Created 1 user');
      expect(human.stdout).toMatch(/test1@example\.com\s+\S{16,}/);
      expect(human.stdout).not.toMatch(/migration/i); // already migrated: nothing to say
    });

    it('fills gaps: test, test1, test3 exist (and tester, test01, test2@other) → test2, then test4…', async () => {
      await migrate(t.db);
      for (const email of ['test@example.com', 'test1@example.com', 'test3@example.com', 'tester@example.com', 'test01@example.com', 'test2@other.com']) {
        await users().createUser({ email, password: 'correct horse battery staple' });
      }
      const one = await seedJson([]);
      expect(one.created.map((c) => c.email)).toEqual(['test2@example.com']);
      const three = await seedJson(['--count', '3']);
      expect(three.created.map((c) => c.email)).toEqual(['test4@example.com', 'test5@example.com', 'test6@example.com']);
      // Each user got its own generated password.
      expect(new Set(three.created.map((c) => c.password)).size).toBe(3);
      for (const c of three.created) expect(await canLogIn(t.db, c.email, c.password!)).toBe(true);

      const custom = await seedJson(['--count', '2', '--prefix', 'QA', '--domain', 'Test.Local', '--full-name', 'Q. A.']);
      expect(custom.created.map((c) => [c.email, c.fullName])).toEqual([
        ['qa@test.local', 'Q. A.'],
        ['qa1@test.local', 'Q. A.'],
      ]);
    });

    it('LIKE wildcards in --prefix match literally; a prefix that makes no valid address is a usage error', async () => {
      await migrate(t.db);
      for (const email of ['axb@example.com', 'axb1@example.com', 'a_bc@example.com']) {
        await users().createUser({ email, password: 'correct horse battery staple' });
      }
      const first = await seedJson(['--prefix', 'a_b']);
      expect(first.created.map((c) => c.email)).toEqual(['a_b@example.com']);
      const second = await seedJson(['--prefix', 'a_b', '--count', '2']);
      expect(second.created.map((c) => c.email)).toEqual(['a_b1@example.com', 'a_b2@example.com']);
      // The library query itself: `_` is not "any character", `%` is not "anything".
      expect(await users().findExistingEmailsWithPrefix('a_b', 'example.com')).toEqual([
        'a_b1@example.com',
        'a_b2@example.com',
        'a_b@example.com',
        'a_bc@example.com',
      ]);
      expect(await users().findExistingEmailsWithPrefix('a%', 'example.com')).toEqual([]);
      expect(await users().findExistingEmailsWithPrefix('a_b', '%.com')).toEqual([]);

      const before = await users().countUsers();
      const line = expectFailure(await run(['seed', '--prefix', 'a_b%']), 2, 'auth-kit seed');
      expect(line).toContain('a_b%');
      expect(await users().countUsers()).toBe(before);
    });

    it('--email, --password and --full-name create that user; the given password is not printed', async () => {
      const password = `given-${randomBytes(9).toString('base64url')}`;
      const result = await run(['seed', '--email', 'Ada@Example.COM', '--password', password, '--full-name', 'Ada Lovelace']);
      expectOk(result);
      expect(result.stdout).toContain('ada@example.com');
      expect(result.stdout).toContain('(as given)');
      expect(result.stdout + result.stderr).not.toContain(password);
      const ada = (await users().getUserByEmail('ada@example.com'))!;
      expect(ada).toMatchObject({ email: 'ada@example.com', fullName: 'Ada Lovelace', isActive: true });
      expect(await canLogIn(t.db, 'ada@example.com', password)).toBe(true);

      const json = await seedJson(['--email', 'bob@example.com', '--password', password]);
      expect(json.created).toEqual([expect.objectContaining({ email: 'bob@example.com', password: null })]);
      expect(JSON.stringify(json)).not.toContain(password);

      // The policy applies: a short password fails, naming the field, not the value.
      const weak = expectFailure(await run(['seed', '--email', 'c@example.com', '--password', 'short']), 1, 'auth-kit seed');
      expect(weak).toContain('at least 8 characters');
      expect(weak).not.toContain('short');
      expect(await users().getUserByEmail('c@example.com')).toBeNull();
    });

    it('an existing email fails (exit 1, named) unless --skip-existing', async () => {
      await seedJson(['--email', 'dup@example.com']);
      const line = expectFailure(await run(['seed', '--email', 'DUP@example.com']), 1, 'auth-kit seed');
      expect(line).toContain('dup@example.com');
      expect(line).toContain('--skip-existing');

      const skipped = await seedJson(['--email', 'dup@example.com', '--skip-existing']);
      expect(skipped).toEqual({ created: [], skipped: ['dup@example.com'] });
      const human = await run(['seed', '--email', 'dup@example.com', '--skip-existing']);
      expectOk(human);
      expect(human.stdout).toContain('No users created');
      expect(await users().countUsers()).toBe(1);
    });

    it('--file creates the listed users; bad files fail naming the entry, creating nobody', async () => {
      const file = join(cwd, 'users.json');
      const password = `fixture-${randomBytes(9).toString('base64url')}`;
      writeFileSync(
        file,
        JSON.stringify([
          { email: 'one@example.com', password, fullName: 'One' },
          { email: 'two@example.com' },
          { email: 'Three@Example.com', password, fullName: null },
        ]),
      );
      const out = await seedJson(['--file', 'users.json']); // relative to the working directory
      expect(out.created.map((c) => [c.email, c.fullName, c.password === null])).toEqual([
        ['one@example.com', 'One', true],
        ['two@example.com', null, false],
        ['three@example.com', null, true],
      ]);
      expect(await canLogIn(t.db, 'one@example.com', password)).toBe(true);
      expect(await canLogIn(t.db, 'two@example.com', out.created[1].password!)).toBe(true);
      expect(JSON.stringify(out)).not.toContain(password);

      // Again: all exist → exit 1 naming the first; with --skip-existing → all skipped.
      expect(expectFailure(await run(['seed', '--file', file]), 1, 'auth-kit seed')).toContain('one@example.com');
      expect((await seedJson(['--file', file, '--skip-existing'])).skipped).toEqual([
        'one@example.com',
        'two@example.com',
        'three@example.com',
      ]);

      const count = await users().countUsers();
      const bad = async (content: string, ...expected: string[]) => {
        writeFileSync(file, content);
        const line = expectFailure(await run(['seed', '--file', file]), 1, 'auth-kit seed');
        for (const text of expected) expect(line).toContain(text);
        expect(line).not.toContain(password);
        expect(await users().countUsers()).toBe(count);
      };
      await bad(JSON.stringify([{ email: 'ok@example.com' }, { email: 'bob@example.com', password: 'short' }]), 'Entry 2 (bob@example.com)', 'at least 8');
      await bad(JSON.stringify([{ email: 'ok@example.com' }, { email: 'not-an-email' }]), 'Entry 2', 'not a valid');
      await bad(JSON.stringify([{ email: 'ok@example.com' }, { email: 'x@example.com', fullname: 'typo' }]), 'Entry 2', 'Unknown field');
      await bad(JSON.stringify([{ email: 'ok@example.com' }, 'x@example.com']), 'Entry 2', 'expected an object');
      await bad(JSON.stringify([{ email: 'a@example.com' }, { email: 'A@example.com' }]), 'a@example.com appears twice');
      await bad(JSON.stringify({ email: 'a@example.com' }), 'JSON array');
      await bad('[]', 'empty');
      await bad(`[{"email": "a@example.com", "password": "${password}" x}]`, 'not valid JSON', 'line 1');
      expect(expectFailure(await run(['seed', '--file', 'missing.json']), 1, 'auth-kit seed')).toContain('no such file');
    });

    it('seeding more than 100 users reports progress as plain lines on a pipe', async () => {
      const result = await run(['seed', '--count', '150', '--password', 'correct horse battery staple']);
      expectOk(result);
      expect(result.stderr).toContain('seed: created 100/150\n');
      expect(result.stderr).toContain('seed: created 150/150\n');
      expect(result.stdout).toContain('Created 150 users');
      expect(await users().countUsers()).toBe(150);
      const emails = (await users().listUsers({ limit: 1000 })).users.map((u) => u.email);
      expect(new Set(emails).size).toBe(150);
      expect(emails).toContain('test149@example.com');
    });

    it('users list: empty, a table newest first, pages with --limit/--cursor, --json; never a password', async () => {
      await migrate(t.db);
      const empty = await run(['users', 'list']);
      expectOk(empty);
      expect(empty.stdout).toContain('No users yet');
      expect(JSON.parse((await run(['users', 'list', '--json'])).stdout)).toEqual({ users: [], nextCursor: null });

      const seeded = await seedJson(['--count', '3', '--full-name', 'Tess T']);
      const passwords = seeded.created.map((c) => c.password!);
      await seedJson(['--email', 'zed@example.com', '--password', 'correct horse battery staple']);
      await users().deactivateUser(seeded.created[0].id);

      const table = await run(['users', 'list']);
      expectOk(table);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ID\s+EMAIL\s+NAME\s+ACTIVE\s+CREATED/);
      const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
      const newestFirst = (await users().listUsers()).users;
      expect(rows.map((r) => r[1])).toEqual(newestFirst.map((u) => u.email));
      expect(rows.find((r) => r[1] === 'test@example.com')).toEqual([
        String(seeded.created[0].id),
        'test@example.com',
        'Tess T',
        'no',
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      ]);
      expect(rows.find((r) => r[1] === 'zed@example.com')?.slice(2, 4)).toEqual(['-', 'yes']);

      const page1 = JSON.parse((await run(['users', 'list', '--limit', '3', '--json'])).stdout) as { users: User[]; nextCursor: string };
      expect(page1.users.map((u) => u.email)).toEqual(newestFirst.slice(0, 3).map((u) => u.email));
      expect(page1.nextCursor).toEqual(expect.any(String));
      const page2 = JSON.parse((await run(['users', 'list', '--limit', '3', '--cursor', page1.nextCursor, '--json'])).stdout) as {
        users: User[];
        nextCursor: string | null;
      };
      expect(page2.users.map((u) => u.email)).toEqual(newestFirst.slice(3).map((u) => u.email));
      expect(page2.nextCursor).toBeNull();
      expect(Object.keys(page1.users[0]).sort()).toEqual(['createdAt', 'email', 'fullName', 'id', 'isActive', 'updatedAt']);

      const human1 = await run(['users', 'list', '--limit', '3']);
      expect(human1.stdout).toContain(`--cursor ${page1.nextCursor}`);
      const human2 = await run(['users', 'list', '--limit', '3', '--cursor', page1.nextCursor]);
      expect(human2.stdout.trim().split('\n')).toHaveLength(2); // header + the last user

      const all = [table, human1, human2].map((r) => r.stdout + r.stderr).join('\n');
      for (const password of [...passwords, 'correct horse battery staple']) expect(all).not.toContain(password);
      expect(all).not.toContain('$argon2');

      expectFailure(await run(['users', 'list', '--cursor', 'not-a-cursor']), 1, 'auth-kit users list');
      for (const limit of ['0', '1001', 'ten', '2.5']) {
        expectFailure(await run(['users', 'list', '--limit', limit]), 2, 'auth-kit users list');
      }
    });

    it('users deactivate / activate by email or id; login follows', async () => {
      const [a, b] = (await seedJson(['--count', '2'])).created;
      const off = await run(['users', 'deactivate', 'TEST@example.com']);
      expectOk(off);
      expect(off.stdout).toContain(`Deactivated user #${a.id} test@example.com`);
      expect((await users().getUserById(a.id))!.isActive).toBe(false);
      expect(await canLogIn(t.db, a.email, a.password!)).toBe(false);
      expect((await run(['users', 'deactivate', String(a.id)])).stdout).toContain('already inactive');

      const on = await run(['users', 'activate', String(a.id)]);
      expectOk(on);
      expect(on.stdout).toContain(`Activated user #${a.id}`);
      expect(await canLogIn(t.db, a.email, a.password!)).toBe(true);
      expect((await run(['users', 'activate', b.email])).stdout).toContain('already active');

      const offById = await run(['users', 'deactivate', String(b.id)]);
      expectOk(offById);
      expect((await users().getUserById(b.id))!.isActive).toBe(false);

      for (const cmd of ['deactivate', 'activate']) {
        expect(expectFailure(await run(['users', cmd, 'nobody@example.com']), 1, `auth-kit users ${cmd}`)).toContain('nobody@example.com');
        expect(expectFailure(await run(['users', cmd, '99999']), 1, `auth-kit users ${cmd}`)).toContain('id 99999');
        expectFailure(await run(['users', cmd]), 2, `auth-kit users ${cmd}`);
        expectFailure(await run(['users', cmd, 'a@example.com', 'b@example.com']), 2, `auth-kit users ${cmd}`);
      }
      const all = [off, on, offById].map((r) => r.stdout + r.stderr).join('\n');
      expect(all).not.toContain(a.password!);
    });

    it('users set-password --password-stdin: the new password works, the old one not; never echoed', async () => {
      const [a] = (await seedJson(['--email', 'pw@example.com'])).created;
      const next = `new-${randomBytes(12).toString('base64url')}`;
      const result = await run(['users', 'set-password', 'pw@example.com', '--password-stdin'], { input: `${next}\n` });
      expectOk(result);
      expect(result.stdout).toContain(`Password changed for user #${a.id} pw@example.com`);
      expect(result.stdout + result.stderr).not.toContain(next);
      expect(await canLogIn(t.db, 'pw@example.com', next)).toBe(true); // the trailing newline was dropped
      expect(await canLogIn(t.db, 'pw@example.com', a.password!)).toBe(false);

      // By id, with a password that keeps its inner spaces and has no newline at all.
      const spaced = ` spaced out ${randomBytes(6).toString('hex')} `;
      expectOk(await run(['users', 'set-password', String(a.id), '--password-stdin'], { input: spaced }));
      expect(await canLogIn(t.db, 'pw@example.com', spaced)).toBe(true);

      const weak = expectFailure(
        await run(['users', 'set-password', 'pw@example.com', '--password-stdin'], { input: 'short\n' }),
        1,
        'auth-kit users set-password',
      );
      expect(weak).toContain('at least 8');
      expect(weak).not.toContain('short\n');
      expect(await canLogIn(t.db, 'pw@example.com', spaced)).toBe(true);
      expectFailure(await run(['users', 'set-password', 'pw@example.com', '--password-stdin'], { input: '' }), 1, 'auth-kit users set-password');

      // Never from an argument: --password is refused with a hint, a second argument too, neither echoed.
      const flag = expectFailure(
        await run(['users', 'set-password', 'pw@example.com', '--password', 'Argv-Secret-123']),
        2,
        'auth-kit users set-password',
      );
      expect(flag).toContain('--password-stdin');
      expect(flag).not.toContain('Argv-Secret-123');
      const extra = expectFailure(await run(['users', 'set-password', 'pw@example.com', 'Argv-Secret-123']), 2, 'auth-kit users set-password');
      expect(extra).not.toContain('Argv-Secret-123');
      // No terminal and no --password-stdin: nothing to prompt on.
      expect(expectFailure(await run(['users', 'set-password', 'pw@example.com']), 2, 'auth-kit users set-password')).toContain(
        '--password-stdin',
      );
      expect(expectFailure(
        await run(['users', 'set-password', 'nobody@example.com', '--password-stdin'], { input: next }),
        1,
        'auth-kit users set-password',
      )).toContain('nobody@example.com');
      expect(await canLogIn(t.db, 'pw@example.com', spaced)).toBe(true);
    });

    it('usage errors exit 2 with one line', async () => {
      const cases: [string[], string][] = [
        [['seed', '--count', '0'], '--count'],
        [['seed', '--count', 'many'], '--count'],
        [['seed', '--bogus'], '--bogus'],
        [['seed', '--json=yes'], '--json'],
        [['seed', '--email'], '--email'],
        [['seed', '--file', 'x.json', '--email', 'a@example.com'], '--file'],
        [['seed', '--email', 'a@example.com', '--count', '2'], '--count'],
        [['seed', '--email', 'a@example.com', '--prefix', 'x'], '--prefix'],
        [['seed', 'extra'], 'no arguments'],
        [['users', 'list', 'extra'], 'no arguments'],
        [['migrate', '--force'], '--force'],
        [['secret', '--algorithm', 'HS999'], 'HS256'],
      ];
      for (const [args, text] of cases) {
        const command = `auth-kit ${args[0] === 'users' ? 'users list' : args[0]}`;
        expect(expectFailure(await run(args), 2, command), args.join(' ')).toContain(text);
      }
      expect(await getMigrationStatus(t.db)).toEqual({ applied: [], pending: expect.any(Array) });
    });
  });
}

describe('auth-kit bin, database-independent', SLOW, () => {
  it('--version prints the package version; --help on every command has usage and examples', async () => {
    const version = await cli(['--version']);
    expectOk(version);
    expect(version.stdout.trim()).toBe(VERSION);
    expect((await cli(['users', 'list', '--version'])).stdout.trim()).toBe(VERSION);

    const commands = [[], ['seed'], ['users'], ['users', 'list'], ['users', 'deactivate'], ['users', 'activate'], ['users', 'set-password'], ['migrate'], ['secret']];
    for (const words of commands) {
      for (const flag of words.length === 0 ? ['--help', '-h'] : ['--help']) {
        const help = await cli([...words, flag]);
        expectOk(help);
        expect(help.stdout).toContain(`Usage: auth-kit ${words.join(' ')}`.replace(/ $/, ''));
        expect(help.stdout).toContain('Examples:');
        expect(help.stdout).toContain('--database-url');
        expect(help.stderr).toBe('');
      }
    }
    const seedHelp = (await cli(['seed', '--help'])).stdout;
    for (const flag of ['--email', '--password', '--full-name', '--prefix', '--domain', '--count', '--file', '--skip-existing', '--json', '--verbose', '--version']) {
      expect(seedHelp).toContain(flag);
    }
    expect((await cli(['users', 'list', '--help'])).stdout).toMatch(/--limit[\s\S]*--cursor[\s\S]*--json/);
    expect((await cli(['users', 'set-password', '--help'])).stdout).toContain('--password-stdin');
    expect((await cli(['migrate', '--help'])).stdout).toContain('--status');
  });

  it('no command, an unknown command or a missing subcommand are usage errors (exit 2)', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: auth-kit <command>');
    expect(none.stderr).toContain('missing command');
    const unknown = expectFailure(await cli(['sede']), 2, 'auth-kit');
    expect(unknown).toContain('did you mean "seed"');
    expect(expectFailure(await cli(['users', 'remove']), 2, 'auth-kit users')).toContain('unknown command "remove"');
    const group = await cli(['users']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: auth-kit users <command>');
  });

  it('secret prints a new 256-bit base64url value each time, accepted as JWT_SECRET_KEY', async () => {
    const a = await cli(['secret']);
    const b = await cli(['secret']);
    expectOk(a);
    const value = a.stdout.trim();
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(b.stdout.trim()).not.toBe(value);
    expect(a.stderr).toBe('');
    expect(resolveSettings({ jwtSecretKey: value }).jwtSecretKey).toBe(value);
    const big = (await cli(['secret', '--algorithm', 'hs512'])).stdout.trim();
    expect(Buffer.from(big, 'base64url')).toHaveLength(64);
    expect(resolveSettings({ jwtSecretKey: big, jwtAlgorithm: 'HS512' }).jwtAlgorithm).toBe('HS512');
  });

  it('an unsupported URL fails with the supported forms, the password masked', async () => {
    for (const args of [['users', 'list'], ['seed'], ['migrate', '--status'], ['migrate']]) {
      const result = await cli([...args, '--database-url', 'mysql://root:hunter2pw@db.example/app']);
      const line = expectFailure(result, 1, `auth-kit ${args.slice(0, args[0] === 'users' ? 2 : 1).join(' ')}`);
      expect(line).toContain('"mysql:"');
      expect(line).toContain('sqlite:///');
      expect(line).toContain('postgres://');
      expect(line).not.toContain('hunter2pw');
    }
  });

  it('an unreachable PostgreSQL fails naming the masked URL and why, never the password (even --verbose)', async () => {
    const url = 'postgres://u:secretpw@127.0.0.1:1/x';
    for (const args of [['users', 'list'], ['seed'], ['migrate'], ['migrate', '--status'], ['users', 'deactivate', '1']]) {
      const command = `auth-kit ${args.slice(0, args[0] === 'users' ? 2 : 1).join(' ')}`;
      const result = await cli([...args, '--database-url', url]);
      const line = expectFailure(result, 1, command);
      expect(line).toContain('cannot reach the database at postgres://u:***@127.0.0.1:1/x');
      expect(line).toContain('ECONNREFUSED');
      expect(result.stdout + result.stderr).not.toContain('secretpw');
    }
    const viaEnv = await cli(['users', 'list'], { env: { DATABASE_URL: url } });
    expectFailure(viaEnv, 1, 'auth-kit users list');
    expect(viaEnv.stderr).toContain('postgres://u:***@');
    expect(viaEnv.stderr).not.toContain('secretpw');

    const verbose = await cli(['users', 'list', '--database-url', url, '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr.trim().split('\n').length).toBeGreaterThan(3); // the stack
    expect(verbose.stderr).toContain('ECONNREFUSED');
    expect(verbose.stdout + verbose.stderr).not.toContain('secretpw');
  });

  it('in an empty folder: seed creates ./app.db and migrates it (saying so); list and status read it', async () => {
    const dir = tempDir();
    const status = await cli(['migrate', '--status'], { cwd: dir });
    expectOk(status);
    expect(status.stdout).toContain('does not exist yet');
    expect(status.stdout).toMatch(/pending\s+0001_create_auth_users/);
    expect(existsSync(join(dir, 'app.db'))).toBe(false); // --status changes nothing

    const list = expectFailure(await cli(['users', 'list'], { cwd: dir }), 1, 'auth-kit users list');
    expect(list).toContain('no database');
    expect(existsSync(join(dir, 'app.db'))).toBe(false);

    const seeded = await cli(['seed'], { cwd: dir });
    expectOk(seeded);
    expect(seeded.stdout).toContain(`Created ${join(dir, 'app.db')} and applied`);
    expect(seeded.stdout).toContain('0001_create_auth_users');
    expect(seeded.stdout).toMatch(/test@example\.com\s+\S{16,}/);
    expect(existsSync(join(dir, 'app.db'))).toBe(true);

    const listed = await cli(['users', 'list'], { cwd: dir });
    expectOk(listed);
    expect(listed.stdout).toContain('test@example.com');
    expect((await cli(['migrate', '--status'], { cwd: dir })).stdout).toMatch(/\d+ applied, 0 pending/);
  });

  it('DATABASE_URL is used when --database-url is not given, and --database-url wins over it', async () => {
    const dir = tempDir();
    const fromEnv = `sqlite:///${join(dir, 'env.db')}`;
    const fromFlag = `sqlite:///${join(dir, 'flag.db')}`;
    expectOk(await cli(['seed', '--email', 'env@example.com'], { cwd: dir, env: { DATABASE_URL: fromEnv } }));
    expectOk(await cli(['seed', '--email', 'flag@example.com', '--database-url', fromFlag], { cwd: dir, env: { DATABASE_URL: fromEnv } }));
    expect((await cli(['users', 'list', '--database-url', fromEnv], { cwd: dir })).stdout).toMatch(/env@example\.com(?![\s\S]*flag@)/);
    expect((await cli(['users', 'list', '--database-url', fromFlag], { cwd: dir })).stdout).not.toContain('env@example.com');
    expect(existsSync(join(dir, 'app.db'))).toBe(false);
  });

  it('argon2 parameters come from AUTH_ARGON2_*; weaker than the OWASP floor is refused', async () => {
    const dir = tempDir();
    const url = `sqlite:///${join(dir, 'params.db')}`;
    const env = { AUTH_ARGON2_MEMORY_COST: '47104', AUTH_ARGON2_TIME_COST: '1', AUTH_MAX_CONCURRENT_HASHES: '1' };
    const made = await cli(['seed', '--database-url', url, '--json'], { cwd: dir, env });
    expectOk(made);
    const db = openDatabase(url);
    try {
      const row = await db.selectFrom('auth_users').select('hashed_password').executeTakeFirstOrThrow();
      expect(row.hashed_password).toMatch(/^\$argon2id\$v=19\$m=47104,t=1,p=1\$/);
    } finally {
      await db.destroy();
    }
    const weak = expectFailure(
      await cli(['seed', '--database-url', url], { cwd: dir, env: { AUTH_ARGON2_MEMORY_COST: '4096' } }),
      1,
      'auth-kit seed',
    );
    expect(weak).toContain('OWASP');
    expect(expectFailure(await cli(['seed', '--database-url', url], { cwd: dir, env: { AUTH_PASSWORD_MIN_LENGTH: 'x' } }), 1, 'auth-kit seed')).toContain(
      'AUTH_PASSWORD_MIN_LENGTH',
    );
  });
});

const scriptAvailable = hasScript();
if (!scriptAvailable) console.warn('[auth-kit tests] SKIPPING the CLI terminal tests: util-linux `script` is not installed');

describe.skipIf(!scriptAvailable)('auth-kit bin on a terminal', SLOW, () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = tempDir();
    url = `sqlite:///${join(dir, 'tty.db')}`;
    expectOk(await cli(['seed', '--email', 'tty@example.com', '--database-url', url]));
  });

  it('colours on a terminal, none with NO_COLOR', async () => {
    const coloured = await runCliInTerminal(['--help']);
    expect(coloured.code).toBe(0);
    expect(coloured.screen).toContain(`${ESC}[1m`);
    const plain = await runCliInTerminal(['--help'], { env: { NO_COLOR: '1' } });
    expect(plain.code).toBe(0);
    expect(plain.screen).toContain('Usage: auth-kit');
    expect(plain.screen).not.toContain(ESC);

    const failing = await runCliInTerminal(['users', 'list', '--database-url', 'mysql://x'], { env: { NO_COLOR: '1' } });
    expect(failing.code).toBe(1);
    expect(failing.screen).toContain('auth-kit users list:');
    expect(failing.screen).not.toContain(ESC);
    const seeded = await runCliInTerminal(['seed', '--database-url', url], { env: { NO_COLOR: '1' } });
    expect(seeded.code).toBe(0);
    expect(seeded.screen).toContain('Created 1 user');
    expect(seeded.screen).not.toContain(ESC);
  });

  it('set-password asks twice without echo; a mismatch changes nothing', async () => {
    const password = `typed-${randomBytes(9).toString('base64url')}`;
    const ok = await runCliInTerminal(['users', 'set-password', 'tty@example.com', '--database-url', url], {
      dialog: [
        { expect: 'New password for tty@example.com: ', reply: `${password}\r` },
        { expect: 'Repeat it: ', reply: `${password}\r` },
      ],
    });
    expect(ok.code, ok.screen).toBe(0);
    expect(ok.screen).toContain('Password changed');
    expect(ok.screen).not.toContain(password);

    const db = openDatabase(url);
    try {
      expect(await canLogIn(db, 'tty@example.com', password)).toBe(true);
      const other = `other-${randomBytes(9).toString('base64url')}`;
      const mismatch = await runCliInTerminal(['users', 'set-password', 'tty@example.com', '--database-url', url], {
        dialog: [
          { expect: 'New password', reply: `${other}\r` },
          { expect: 'Repeat it: ', reply: `${other}x\r` },
        ],
      });
      expect(mismatch.code).toBe(1);
      expect(mismatch.screen).toContain('differ');
      expect(mismatch.screen).not.toContain(other);
      expect(await canLogIn(db, 'tty@example.com', password)).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});

describeEachDialect('seed library (seedUsers, nextAvailableEmails)', (dialect) => {
  // Real argon2 at OWASP cost on a shared machine.
  let t: TestDatabase;
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('inserts in batches with the createUser rules, reports progress, generates missing passwords', async () => {
    const progress: number[] = [];
    const { created, skipped } = await seedUsers(
      t.db,
      [
        { email: ' One@Example.com ', password: 'correct horse battery staple', fullName: '  One  ' },
        { email: 'two@example.com' },
        { email: 'three@example.com', isActive: false },
      ],
      { passwords: hasher, batchSize: 2, onProgress: (done) => progress.push(done) },
    );
    expect(skipped).toEqual([]);
    expect(progress).toEqual([2, 3]);
    expect(created.map((c) => [c.user.email, c.user.fullName, c.user.isActive, c.generatedPassword === null])).toEqual([
      ['one@example.com', 'One', true, true],
      ['two@example.com', null, true, false],
      ['three@example.com', null, false, false],
    ]);
    expect(created[1].generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await canLogIn(t.db, 'two@example.com', created[1].generatedPassword!)).toBe(true);
    const hashes = await t.db.selectFrom('auth_users').select('hashed_password').execute();
    for (const h of hashes) expect(h.hashed_password).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('names an email taken meanwhile (after the check), keeping the batches already written', async () => {
    const users = createUserService(t.db, { passwords: hasher });
    const r3Password = 'r3 correct horse battery staple';
    // Another process registers r3 after seedUsers checked for existing emails (the check runs
    // before any hashing) and before r3 is inserted (which waits for r3's hash).
    const racing = {
      ...hasher,
      async hash(password: string) {
        if (password === r3Password) await users.createUser({ email: 'r3@example.com', password: 'correct horse battery staple' });
        return hasher.hash(password);
      },
    };
    const attempt = seedUsers(
      t.db,
      [{ email: 'r1@example.com' }, { email: 'r2@example.com' }, { email: 'r3@example.com', password: r3Password }],
      { passwords: racing, batchSize: 1 },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'email_already_registered',
      message: expect.stringMatching(/r3@example\.com is already registered; 2 users were created before it/),
    });
    expect((await users.listUsers()).users.map((u) => u.email).sort()).toEqual(['r1@example.com', 'r2@example.com', 'r3@example.com']);

    // With skipExisting the race is a skip, not a failure.
    const again = await seedUsers(t.db, [{ email: 'r3@example.com' }, { email: 'r4@example.com' }], { passwords: hasher, skipExisting: true });
    expect(again.skipped).toEqual(['r3@example.com']);
    expect(again.created.map((c) => c.user.email)).toEqual(['r4@example.com']);
  });

  it('nextAvailableEmails: bare prefix first, lowest free numbers, exact matches only', async () => {
    const users = createUserService(t.db, { passwords: hasher });
    expect(await nextAvailableEmails(users)).toEqual(['test@example.com']);
    await seedUsers(t.db, ['test1@example.com', 'test3@example.com', 'test@other.com', 'testy@example.com', 'test007@example.com'].map((email) => ({ email })), {
      passwords: hasher,
    });
    expect(await nextAvailableEmails(users, { count: 3 })).toEqual(['test@example.com', 'test2@example.com', 'test4@example.com']);
    await expect(nextAvailableEmails(users, { prefix: 'a b' })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(nextAvailableEmails(users, { count: 0 })).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

/**
 * DESIGN rule 5 for the lockout (S18): two real server processes — each running the BUILT package
 * (createAuth over one PostgreSQL schema, the Express adapter, its own ephemeral port on
 * 127.0.0.1) — count the same failures. Failed logins alternate between the processes, so neither
 * sees 5 of its own, yet the attempt after the 5th failure gets 429 from either one.
 *
 * Both processes run on the same frozen clock (passed in), so the outcome does not depend on how
 * fast this shared machine is. PostgreSQL unreachable: skipped with a visible message, or failing
 * when AUTH_KIT_REQUIRE_PG=1 (the convention of test/support/databases.ts).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, migrate } from 'auth-kit';
import { PG_URL, REQUIRE_PG, openPostgresSchema, postgresProblem, type TestDatabase } from './support/databases.js';
import { builtPackageDir } from './support/dist.js';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';
import { FORM, form, request, type RawResponse } from './support/http-client.js';

const FROZEN_NOW = '2030-05-01T08:00:00.000Z';

/** The server each child runs; `import 'auth-kit'` resolves to the built package in its cwd. */
const SERVER = `
import express from 'express';
import { createAuth, openDatabase } from 'auth-kit';
import { authRoutes } from 'auth-kit/express';
const db = openDatabase(process.env.AK_URL);
const now = new Date(process.env.AK_NOW);
const auth = createAuth({ db, settings: { jwtSecretKey: process.env.AK_SECRET, maxConcurrentHashes: 1 }, clock: () => new Date(now) });
const app = express();
app.use('/auth', authRoutes(auth));
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
});
// The parent closes stdin to stop the server.
process.stdin.on('end', () => {
  server.close();
  server.closeAllConnections();
  db.destroy().finally(() => process.exit(0));
});
process.stdin.resume();
`;

interface Server {
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  output(): string;
}

function startServer(pkgDir: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { cwd: pkgDir, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`server process exited (${code}) before listening: ${out} ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const { port } = JSON.parse(line) as { port: number };
        resolve({ url: `http://127.0.0.1:${port}`, child, exited, output: () => `${out}\n${err}` });
      }
    });
  });
}

async function stopServer(server: Server): Promise<void> {
  server.child.stdin.end();
  const timer = setTimeout(() => server.child.kill(), 10_000);
  await server.exited;
  clearTimeout(timer);
}

const pgProblem = await postgresProblem();
const skip = pgProblem !== null && !REQUIRE_PG;
if (skip) console.warn(`[auth-kit tests] SKIPPING lockout-two-processes.test.ts: PostgreSQL at ${PG_URL} unreachable (${pgProblem})`);

describe.skipIf(skip)('lockout across two server processes on one PostgreSQL', () => {
  let t: TestDatabase;
  const servers: Server[] = [];

  beforeAll(async () => {
    if (pgProblem !== null) throw new Error(`PostgreSQL at ${PG_URL} is unreachable (AUTH_KIT_REQUIRE_PG=1): ${pgProblem}`);
    const pkgDir = await builtPackageDir();
    t = await openPostgresSchema();
    await migrate(t.db);
    const secret = newSecret();
    // The account exists; the servers see it through the shared schema.
    const setup = createAuth({ db: t.db, settings: { jwtSecretKey: secret } });
    await setup.users.createUser({ email: 'ada@example.com', password: GOOD_PASSWORD });
    const env = { AK_URL: t.url, AK_SECRET: secret, AK_NOW: FROZEN_NOW };
    servers.push(...(await Promise.all([startServer(pkgDir, env), startServer(pkgDir, env)])));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map(stopServer));
    await t?.cleanup();
  }, 60_000);

  const token = (server: Server, username: string, password: string): Promise<RawResponse> =>
    request(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: form({ grant_type: 'password', username, password }),
    });

  it('two distinct processes answer on two ports', () => {
    expect(servers).toHaveLength(2);
    expect(servers[0].child.pid).not.toBe(servers[1].child.pid);
    expect(servers[0].url).not.toBe(servers[1].url);
  });

  for (const email of ['ada@example.com', 'ghost@example.com']) {
    it(`failures alternating between the processes reach the threshold together (${email})`, async () => {
      // 5 failures: 3 on the first process, 2 on the second. Neither saw 5 itself.
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await token(servers[i % 2], email, `wrong-horse-${i}`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      // The 6th attempt, on either process, even with the right password: 429 with Retry-After.
      for (const server of servers) {
        const refused = await token(server, email, GOOD_PASSWORD);
        expect(refused.status, server.output()).toBe(429);
        expect(refused.headers['retry-after']).toBe('1');
        expect(refused.json()).toMatchObject({ error: 'too_many_attempts' });
      }
      const rows = await t.db
        .selectFrom('auth_events')
        .select(['type'])
        .where('email', '=', email)
        .orderBy('id')
        .execute();
      expect(rows.map((r) => r.type)).toEqual([...Array(5).fill('login_failed'), 'login_throttled', 'login_throttled']);
    });
  }
});

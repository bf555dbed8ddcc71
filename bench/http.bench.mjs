// HTTP benchmarks (issue 3): for each adapter (Express, Hono, Fastify), measured in one run with
// autocannon over loopback (127.0.0.1), bounded durations:
//   1. authenticated GET /auth/me req/s ÷ the same framework's bare route returning the same JSON
//      without auth (SQLite file database), median of ME_ROUNDS alternating rounds   target ≥ 0.7
//   2. POST /auth/token req/s ÷ raw @node-rs/argon2 verify rate, same parameters (m=19456, t=2,
//      p=1); raw with maxConcurrentHashes in flight, /token driven with twice as many
//      connections so the server's hash slots stay busy                      target ≥ 0.8
//   3. p99 latency of a trivial route while /auth/token is saturated        target < 20 ms
//   4. POST /auth/token grant_type=refresh_token req/s ÷ the access-token issuance rate
//      (auth.tokens.createAccessToken in this process, same run)            report only
//      Refresh tokens rotate, so every request spends a token returned by an earlier response:
//      REFRESH_CONNECTIONS chains run side by side (one per connection's worth of tokens).
//
// Rounds: where a comparison runs in alternating rounds (1 and 2), the rates printed are each
// side's median rate and the ratio is the median of the per-round ratios, so it need not equal
// the quotient of the two printed rates.
//
// Run: npm run bench            (builds, then every bench file)
//      npm run build && node bench/run.mjs http
// Uses the BUILT package: 'auth-kit/express' etc. resolve to dist/ through the self-reference.
// Each app runs in its own child process (this file with --serve), so autocannon and the server
// do not share an event loop. Nothing leaves this machine.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import {
  benchSecret,
  describeMachine,
  formatRate,
  formatRatio,
  heading,
  makeTempDir,
  measureRate,
  median,
  printTable,
  verdict,
} from './lib.mjs';

const ADAPTERS = ['express', 'hono', 'fastify'];
const EMAIL = 'bench-http@example.com';
const PASSWORD = 'correct horse battery staple http';
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
/** The /token comparison: this many rounds, each side TOKEN_ROUND_SECONDS per round. */
const TOKEN_ROUNDS = 6;
const TOKEN_ROUND_SECONDS = Math.max(1, Math.round(SECONDS / 2.5));
const ME_CONNECTIONS = 10;
/** The /me comparison: this many rounds, each side ME_ROUND_SECONDS per round. */
const ME_ROUNDS = 8;
const ME_ROUND_SECONDS = Math.max(1, Math.round(SECONDS / 4));
const REFRESH_CONNECTIONS = 10;
const USER_JSON = {
  id: 1,
  email: EMAIL,
  fullName: 'Bench User',
  isActive: true,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: null,
};

// ---------------------------------------------------------------------------------------------
// Child mode: one app, auth-kit at /auth, a bare /bare route with the same JSON as /me, /health.
// ---------------------------------------------------------------------------------------------

async function serve(adapter, dbFile) {
  const { createAuth, migrate, openDatabase } = await import('auth-kit');
  const { authRoutes, requireAuth } = await import(`auth-kit/${adapter}`);
  const db = openDatabase(`sqlite:///${dbFile}`);
  await migrate(db);
  const settings = { jwtSecretKey: process.env.BENCH_SECRET, argon2MemoryCost: ARGON2.memoryCost, argon2TimeCost: ARGON2.timeCost, argon2Parallelism: ARGON2.parallelism };
  const auth = createAuth({ db, settings });
  let port;
  if (adapter === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.use('/auth', authRoutes(auth));
    app.get('/bare', (_req, res) => res.json(USER_JSON));
    app.get('/health', (_req, res) => res.json({ ok: true }));
    app.get('/private', requireAuth(auth), (req, res) => res.json({ id: req.user.id }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = server.address().port;
  } else if (adapter === 'hono') {
    const { Hono } = await import('hono');
    const { serve: honoServe } = await import('@hono/node-server');
    const app = new Hono();
    app.route('/auth', authRoutes(auth));
    app.get('/bare', (c) => c.json(USER_JSON));
    app.get('/health', (c) => c.json({ ok: true }));
    app.get('/private', requireAuth(auth), (c) => c.json({ id: c.get('user').id }));
    const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
    port = server.address().port;
  } else {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    await app.register(authRoutes(auth), { prefix: '/auth' });
    app.get('/bare', async () => USER_JSON);
    app.get('/health', async () => ({ ok: true }));
    app.get('/private', { preHandler: requireAuth(auth) }, async (request) => ({ id: request.user.id }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = app.server.address().port;
  }
  process.send({ port, maxConcurrentHashes: auth.settings.maxConcurrentHashes });
  process.on('disconnect', () => process.exit(0));
}

function startServer(adapter, dbFile, secret) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', adapter, dbFile], {
      env: { ...process.env, BENCH_SECRET: secret },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (info) => resolve({ child, ...info, url: `http://127.0.0.1:${info.port}` }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${adapter} server exited early (code ${code})`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.once('exit', resolve);
    server.child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------
// Load generation
// ---------------------------------------------------------------------------------------------

/** Runs autocannon; returns 2xx responses per second and latency percentiles. Fails on any non-2xx. */
async function load(options) {
  const result = await autocannon({ duration: SECONDS, ...options });
  const ok = result['2xx'];
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${options.url}: ${bad} failed responses of ${ok + bad}`);
  return { rate: ok / result.duration, p99: result.latency.p99, p50: result.latency.p50, total: ok };
}

/**
 * Measures `subject` and `baseline` (async functions returning a rate) in `rounds` adjacent pairs,
 * alternating which goes first, and returns the median of the per-round ratios with the median
 * rates.
 */
async function pairedRounds(subject, baseline, rounds) {
  const ratios = [];
  const subjectRates = [];
  const baselineRates = [];
  for (let round = 0; round < rounds; round++) {
    let s;
    let b;
    if (round % 2 === 0) {
      b = await baseline();
      s = await subject();
    } else {
      s = await subject();
      b = await baseline();
    }
    subjectRates.push(s);
    baselineRates.push(b);
    ratios.push(s / b);
  }
  return { ratio: median(ratios), subjectRate: median(subjectRates), baselineRate: median(baselineRates), ratios };
}

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** auth.authenticate() per second in this process: the core's share of every GET /auth/me. */
async function measureAuthenticate(dir, secret) {
  const { createAuth, migrate, openDatabase } = await import('auth-kit');
  const db = openDatabase(`sqlite:///${dir}/authenticate.db`);
  try {
    await migrate(db);
    const settings = { jwtSecretKey: secret, argon2MemoryCost: ARGON2.memoryCost, argon2TimeCost: ARGON2.timeCost, argon2Parallelism: ARGON2.parallelism };
    const auth = createAuth({ db, settings });
    await auth.register({ email: EMAIL, password: PASSWORD });
    const { accessToken } = await auth.login({ username: EMAIL, password: PASSWORD });
    const run = () => auth.authenticate(accessToken);
    await measureRate(run, { durationMs: 500, concurrency: ME_CONNECTIONS });
    return (await measureRate(run, { durationMs: SECONDS * 1000, concurrency: ME_CONNECTIONS })).rate;
  } finally {
    await db.destroy();
  }
}

/**
 * auth.tokens.createAccessToken() per second in this process: what a refresh must do at least
 * (sign one access token), without the HTTP request and the database write around it.
 */
async function measureIssuance(dir, secret) {
  const { createAuth, migrate, openDatabase } = await import('auth-kit');
  const db = openDatabase(`sqlite:///${dir}/issuance.db`);
  try {
    await migrate(db);
    const auth = createAuth({ db, settings: { jwtSecretKey: secret } });
    const run = () => auth.tokens.createAccessToken({ id: 1, tokenVersion: 0, sessionId: 'bench-session-id-00000' });
    await measureRate(run, { durationMs: 500, concurrency: REFRESH_CONNECTIONS });
    return (await measureRate(run, { durationMs: SECONDS * 1000, concurrency: REFRESH_CONNECTIONS })).rate;
  } finally {
    await db.destroy();
  }
}

/**
 * POST /auth/token with grant_type=refresh_token under autocannon. Each request takes a refresh
 * token from a pool and its response puts the next one back, so the pool holds one live chain per
 * connection (a spent token is never sent: reuse would revoke the chain and fail the run).
 */
async function refreshLoad(server, duration) {
  const pool = [];
  for (let i = 0; i < REFRESH_CONNECTIONS; i++) {
    const res = await fetch(`${server.url}/auth/token`, TOKEN_REQUEST);
    if (!res.ok) throw new Error(`login for the refresh chains: ${res.status} ${await res.text()}`);
    pool.push((await res.json()).refresh_token);
  }
  return load({
    url: server.url,
    connections: REFRESH_CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/auth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest(req) {
          const token = pool.pop();
          if (token === undefined) throw new Error('refresh bench: no unspent refresh token left');
          return { ...req, body: `grant_type=refresh_token&refresh_token=${token}` };
        },
        onResponse(status, body) {
          if (status === 200) pool.push(JSON.parse(body).refresh_token);
        },
      },
    ],
  });
}

const TOKEN_BODY = new URLSearchParams({ grant_type: 'password', username: EMAIL, password: PASSWORD }).toString();
const TOKEN_REQUEST = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: TOKEN_BODY };

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  console.log(`http bench: ${describeMachine()}`);
  console.log(`autocannon on 127.0.0.1, ${SECONDS} s per measurement; each app in its own process on a SQLite file.`);
  const tmp = makeTempDir('auth-kit-bench-http-');
  const secret = benchSecret();
  const rows = [];
  try {
    // The raw argon2 baseline: same parameters, measured here while no server is busy.
    const storedHash = await argon2Hash(PASSWORD, { ...ARGON2, algorithm: 2 });
    const rawVerify = () => argon2Verify(storedHash, PASSWORD);
    const authenticateRate = await measureAuthenticate(tmp.path, secret);
    console.log(
      `auth.authenticate() alone, in-process (JWT verify + SQLite user lookup, ${ME_CONNECTIONS} concurrent): ${formatRate(authenticateRate)}`,
    );
    const issuanceRate = await measureIssuance(tmp.path, secret);
    console.log(`auth.tokens.createAccessToken() alone, in-process (${REFRESH_CONNECTIONS} concurrent): ${formatRate(issuanceRate)}`);

    for (const adapter of ADAPTERS) {
      heading(adapter);
      const server = await startServer(adapter, `${tmp.path}/${adapter}.db`, secret);
      try {
        await postJson(`${server.url}/auth/register`, { email: EMAIL, password: PASSWORD, fullName: 'Bench User' });
        const { access_token: accessToken } = await (await fetch(`${server.url}/auth/token`, TOKEN_REQUEST)).json();
        const authHeaders = { authorization: `Bearer ${accessToken}` };

        // The login ratio compares throughput capacities. Raw argon2 runs with as many verifies in
        // flight as the server lets hashes run at once (maxConcurrentHashes); more do not raise
        // its rate on a CPU-bound machine. /token is driven with twice as many connections, so the
        // server's hash slots never sit idle waiting for a client's round trip over HTTP (the
        // surplus requests queue at the cap, as they would under real load).
        const tokenConcurrency = server.maxConcurrentHashes;
        const tokenConnections = 2 * tokenConcurrency;

        // 1. /me vs the bare route, after a warm-up, in short alternating rounds: the median of
        // the per-round ratios, as for /token (this machine's speed wanders within seconds).
        const me = { url: `${server.url}/auth/me`, headers: authHeaders, connections: ME_CONNECTIONS };
        const bare = { url: `${server.url}/bare`, connections: ME_CONNECTIONS };
        await load({ ...me, duration: 1 });
        await load({ ...bare, duration: 1 });
        const mePairs = await pairedRounds(
          async () => (await load({ ...me, duration: ME_ROUND_SECONDS })).rate,
          async () => (await load({ ...bare, duration: ME_ROUND_SECONDS })).rate,
          ME_ROUNDS,
        );
        const meRate = mePairs.subjectRate;
        const bareRate = mePairs.baselineRate;
        // If /me cost the bare route plus auth.authenticate() and nothing else, its ratio would be
        // A / (A + B): the ceiling the core's per-request work leaves the adapter.
        const ceiling = authenticateRate / (authenticateRate + bareRate);
        console.log(
          `  GET /auth/me ${formatRate(meRate)} vs bare ${formatRate(bareRate)} (${ME_CONNECTIONS} connections); ` +
            `ceiling set by auth.authenticate() alone: ${formatRatio(ceiling)}`,
        );
        console.log(`  GET /auth/me ratio per round: ${mePairs.ratios.map((r) => formatRatio(r)).join(' ')}`);
        rows.push({
          adapter,
          metric: `GET /auth/me ÷ bare route (ceiling ${formatRatio(ceiling)})`,
          subject: formatRate(meRate),
          baseline: formatRate(bareRate),
          value: formatRatio(mePairs.ratio),
          target: '≥ 0.70',
          verdict: verdict(mePairs.ratio, 0.7),
        });

        // 2. /token vs raw argon2 (verified here, in this process, while the server idles) at the
        // same concurrency, in alternating rounds.
        const token = { url: `${server.url}/auth/token`, ...TOKEN_REQUEST, connections: tokenConnections };
        const raw = (durationMs) => measureRate(rawVerify, { durationMs, concurrency: tokenConcurrency });
        await load({ ...token, duration: 1 });
        await raw(500);
        // Short alternating rounds and the median of their ratios: the rate of a small shared
        // machine wanders by ±15% within seconds, which two long halves cannot cancel.
        const tokenPairs = await pairedRounds(
          async () => (await load({ ...token, duration: TOKEN_ROUND_SECONDS })).rate,
          async () => (await raw(TOKEN_ROUND_SECONDS * 1000)).rate,
          TOKEN_ROUNDS,
        );
        const tokenRun = { rate: tokenPairs.subjectRate };
        const rawRate = tokenPairs.baselineRate;
        console.log(
          `  POST /auth/token ${formatRate(tokenRun.rate)} (${tokenConnections} connections) vs raw argon2 ${formatRate(rawRate)} (${tokenConcurrency} in flight)`,
        );
        console.log(`  POST /auth/token ratio per round: ${tokenPairs.ratios.map((r) => formatRatio(r)).join(' ')}`);
        rows.push({
          adapter,
          metric: `POST /auth/token ÷ raw argon2 (cap ${tokenConcurrency})`,
          subject: formatRate(tokenRun.rate),
          baseline: formatRate(rawRate),
          value: formatRatio(tokenPairs.ratio),
          target: '≥ 0.80',
          verdict: verdict(tokenPairs.ratio, 0.8),
        });

        // 4. The refresh grant (a database write per request: spend one row, insert the next)
        // against signing an access token alone. Measured before the flood below, which leaves
        // hashes queued in the server for a while.
        await refreshLoad(server, 1);
        const refreshRun = await refreshLoad(server, SECONDS);
        console.log(
          `  POST /auth/token (refresh_token) ${formatRate(refreshRun.rate)} (${REFRESH_CONNECTIONS} chains) vs createAccessToken ${formatRate(issuanceRate)}`,
        );
        rows.push({
          adapter,
          metric: `refresh grant ÷ access-token issuance (${REFRESH_CONNECTIONS} concurrent)`,
          subject: formatRate(refreshRun.rate),
          baseline: formatRate(issuanceRate),
          value: formatRatio(refreshRun.rate / issuanceRate, 3),
          target: 'report only',
          verdict: '',
        });

        // 3. A trivial route's p99 while /token is flooded (4× the concurrency it can serve).
        const [health, flood] = await Promise.all([
          load({ url: `${server.url}/health`, connections: 1 }),
          load({ url: `${server.url}/auth/token`, ...TOKEN_REQUEST, connections: 4 * tokenConcurrency }),
        ]);
        console.log(`  GET /health during a /auth/token flood (${formatRate(flood.rate)} logins): p50 ${health.p50} ms, p99 ${health.p99} ms`);
        rows.push({
          adapter,
          metric: 'p99 of GET /health during a login flood',
          subject: `${health.p99} ms`,
          baseline: `p50 ${health.p50} ms`,
          value: `${health.p99} ms`,
          target: '< 20 ms',
          verdict: verdict(health.p99, 20, { below: true }),
        });
      } finally {
        await stopServer(server);
      }
    }
  } finally {
    tmp.remove();
  }

  heading('summary (this machine is shared: treat the figures as provisional)');
  printTable(
    [
      { key: 'adapter', title: 'adapter' },
      { key: 'metric', title: 'measurement' },
      { key: 'subject', title: 'auth-kit', align: 'right' },
      { key: 'baseline', title: 'baseline', align: 'right' },
      { key: 'value', title: 'ratio / value', align: 'right' },
      { key: 'target', title: 'target' },
      { key: 'verdict', title: '' },
    ],
    rows,
  );
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3], process.argv[4]);
} else {
  await main();
}

// CLI seeding benchmark (issue 4): the wall time of `auth-kit seed --count 500` (the built bin,
// spawned on a fresh temp SQLite file: process start, migrations, 500 argon2id hashes, batched
// inserts) divided by the wall time of hashing 500 passwords directly with @node-rs/argon2 at the
// same parameters (m=19456, t=2, p=1) and the same concurrency (the CLI's in-flight cap), measured
// in the same run. Hashing is the floor; the ratio is the CLI's overhead. Target: ≤ 1.25.
//
// Run: npm run bench            (builds, then every bench file)
//      npm run build && node bench/run.mjs seed
// Rounds alternate the order (baseline first, then the CLI first); BENCH_SEED_ROUNDS sets how
// many (default 3) and the median per-round ratio is reported. AUTH_MAX_CONCURRENT_HASHES sets
// the cap for both sides (default: the library's own default, the CPU count + 1 at most
// UV_THREADPOOL_SIZE − 1).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash } from '@node-rs/argon2';
import { resolveSettings } from 'auth-kit';
import { describeMachine, formatDuration, formatRatio, heading, makeTempDir, median, printTable } from './lib.mjs';

const COUNT = 500;
const TARGET = 1.25;
const ROUNDS = Number(process.env.BENCH_SEED_ROUNDS ?? 3);
const PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const CAP = Number(process.env.AUTH_MAX_CONCURRENT_HASHES) || resolveSettings({ jwtSecretKey: randomBytes(32).toString('base64url') }).maxConcurrentHashes;
const BIN = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));

if (!existsSync(BIN)) {
  console.error('dist/cli/index.js is missing: run `npm run build` (or `npm run bench`).');
  process.exit(2);
}

/** The baseline: COUNT hashes of fresh 24-character passwords, CAP at a time, as the CLI does. */
async function rawHashing(count) {
  // @node-rs/argon2 declares Algorithm and Version as const enums: Argon2id = 2, V0x13 = 1.
  const options = { algorithm: 2, version: 1, ...PARAMS };
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      await hash(randomBytes(18).toString('base64url'), options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CAP, count) }, worker));
  return performance.now() - started;
}

/** The subject: the built bin seeding COUNT users into a new SQLite file; wall time spawn → exit. */
function cliSeed(dir, round) {
  const url = `sqlite:///${join(dir, `seed-${round}.db`)}`;
  const env = {
    ...process.env,
    AUTH_ARGON2_MEMORY_COST: String(PARAMS.memoryCost),
    AUTH_ARGON2_TIME_COST: String(PARAMS.timeCost),
    AUTH_ARGON2_PARALLELISM: String(PARAMS.parallelism),
    AUTH_MAX_CONCURRENT_HASHES: String(CAP),
    NO_COLOR: '1',
  };
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'seed', '--count', String(COUNT), '--database-url', url, '--json'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`auth-kit seed exited ${code}: ${stderr.trim().split('\n').at(-1)}`));
      const created = JSON.parse(stdout).created.length;
      if (created !== COUNT) return reject(new Error(`auth-kit seed created ${created} users, not ${COUNT}`));
      resolve(ms);
    });
  });
}

heading(`auth-kit seed --count ${COUNT} vs raw argon2id hashing (m=${PARAMS.memoryCost}, t=${PARAMS.timeCost}, p=${PARAMS.parallelism}, ${CAP} at a time)`);
console.log(describeMachine());

const tmp = makeTempDir('auth-kit-bench-seed-');
try {
  await rawHashing(CAP * 2); // warm-up: load the native module, touch the thread pool
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    let raw;
    let cli;
    if (round % 2 === 0) {
      raw = await rawHashing(COUNT);
      cli = await cliSeed(tmp.path, round);
    } else {
      cli = await cliSeed(tmp.path, round);
      raw = await rawHashing(COUNT);
    }
    rows.push({ round: round + 1, order: round % 2 === 0 ? 'raw, cli' : 'cli, raw', raw, cli, ratio: cli / raw });
  }
  printTable(
    [
      { key: 'round', title: 'round', align: 'right' },
      { key: 'order', title: 'order' },
      { key: 'rawText', title: `raw ${COUNT} hashes`, align: 'right' },
      { key: 'cliText', title: `seed --count ${COUNT}`, align: 'right' },
      { key: 'ratioText', title: 'ratio', align: 'right' },
    ],
    rows.map((r) => ({ ...r, rawText: formatDuration(r.raw), cliText: formatDuration(r.cli), ratioText: formatRatio(r.ratio, 3) })),
  );
  const ratio = median(rows.map((r) => r.ratio));
  console.log(
    `seed ÷ raw hashing: ${formatRatio(ratio, 3)} (median of ${rows.length} round(s)); target ≤ ${TARGET}: ${ratio <= TARGET ? 'PASS' : 'FAIL'}`,
  );
} finally {
  tmp.remove();
}

// Runs the benchmarks: every bench/*.bench.mjs (core first, then by name), each in its own child
// `node` process so that one file's memory never shows up in another's RSS figures.
//
//   node bench/run.mjs              every bench file
//   node bench/run.mjs core http    only bench/core.bench.mjs and bench/http.bench.mjs
//
// Output streams through as it is printed. A file that exits non-zero (or runs past the time bound)
// is reported and makes this script exit 1, but the remaining files still run. Missing a target is
// not a failure: bench files print PASS/FAIL and exit 0. BENCH_TIMEOUT_MS bounds the whole run
// (default 15 minutes). The benchmarks import the BUILT package: run `npm run build` first
// (`npm run bench` does).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const SUFFIX = '.bench.mjs';
const totalBudgetMs = Number(process.env.BENCH_TIMEOUT_MS ?? 15 * 60_000);
const KILL_GRACE_MS = 5_000;

const available = readdirSync(benchDir)
  .filter((f) => f.endsWith(SUFFIX))
  .map((f) => f.slice(0, -SUFFIX.length))
  .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)));

const requested = process.argv.slice(2).map((arg) => arg.replace(/\.bench\.mjs$/, '').replace(/^.*\//, ''));
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = requested.length ? available.filter((name) => requested.includes(name)) : available;

if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('dist/ is missing: the benchmarks use the built package. Run `npm run build` (or `npm run bench`).');
  process.exit(2);
}

const deadline = Date.now() + totalBudgetMs;
const results = [];

for (const name of selected) {
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    results.push({ name, status: 'not run (time bound reached)', ok: false, ms: 0 });
    continue;
  }
  console.log(`\n######## bench/${name}${SUFFIX} ########`);
  results.push(await runOne(name, remaining));
}

console.log('\n######## benchmark files ########');
for (const r of results) console.log(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.name.padEnd(12)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.status}`);
const failed = results.filter((r) => !r.ok);
if (failed.length) {
  console.log(`${failed.length} benchmark file(s) failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}

function runOne(name, budgetMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(benchDir, `${name}${SUFFIX}`)], { cwd: root, stdio: 'inherit' });
    let timedOut = false;
    let killTimer;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\nbench/${name}${SUFFIX} exceeded the time bound; stopping it`);
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, budgetMs);
    const finish = (status, ok) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ name, status, ok, ms: Date.now() - started });
    };
    child.on('error', (err) => finish(`could not start: ${err.message}`, false));
    child.on('exit', (code, signal) => {
      if (timedOut) finish('stopped: time bound reached', false);
      else if (code === 0) finish('exit 0', true);
      else finish(signal ? `killed by ${signal}` : `exit ${code}`, false);
    });
  });
}

// Shared helpers for the bench/*.bench.mjs files: timing, interleaved comparisons, RSS sampling,
// formatting and a plain-text table. No dependencies beyond Node itself.
//
// The machine these run on is shared and noisy, so every comparison here is a ratio against a
// baseline measured in the same process, in alternating rounds, and the median is reported.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** The middle value (mean of the two middle ones for an even count). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs `fn` in `concurrency` async loops until `durationMs` has passed; returns completed calls
 * per second (`rate`) and per CPU-second of this process (`cpuRate`). A call that throws aborts the measurement (a benchmark of failures is no benchmark).
 */
export async function measureRate(fn, { durationMs, concurrency = 1 }) {
  let ops = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      await fn();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // cpuRate: calls per CPU-second of this process (all its threads, thread pool included). Other
  // processes on the machine disturb it much less than the wall-clock rate.
  return { ops, seconds, rate: ops / seconds, cpuRate: ops / cpuSeconds };
}

/**
 * Measures one or more subjects against a baseline in interleaved rounds, after a warm-up of each,
 * and returns for each subject the median of its per-round ratios (subject rate ÷ the baseline
 * rate of the same round) with the median rates. Within a round the order alternates (forward,
 * then reversed in the next round) so no side always runs first; all sides see the same load.
 *
 * `baseline` and each subject are a function or `{ fn, concurrency }` (concurrency defaults to the
 * top-level `concurrency`). With `subject` (one) it returns one result; with `subjects` (a record
 * of name → subject) a record of results.
 *
 *   const r = await compareRates({ baseline: rawVerify, subject: libVerify, concurrency: 8 });
 *   console.log(r.ratio, r.subjectRate, r.baselineRate, r.ratios, r.cpuRatio);
 */
export async function compareRates({ baseline, subject, subjects, rounds = 5, durationMs = 500, warmupMs = 200, concurrency = 1 }) {
  const normal = (side) => (typeof side === 'function' ? { fn: side, concurrency } : { concurrency, ...side });
  const named = subjects ?? { subject };
  const sides = [['\0baseline', normal(baseline)], ...Object.entries(named).map(([name, side]) => [name, normal(side)])];
  const rates = Object.fromEntries(sides.map(([name]) => [name, []]));
  const cpuRates = Object.fromEntries(sides.map(([name]) => [name, []]));
  for (const [, side] of sides) await measureRate(side.fn, { durationMs: warmupMs, concurrency: side.concurrency });
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const [name, side] of order) {
      const m = await measureRate(side.fn, { durationMs, concurrency: side.concurrency });
      rates[name].push(m.rate);
      cpuRates[name].push(m.cpuRate);
    }
  }
  const base = rates['\0baseline'];
  const results = {};
  for (const name of Object.keys(named)) {
    const ratios = rates[name].map((rate, i) => rate / base[i]);
    const cpuBase = cpuRates['\0baseline'];
    results[name] = {
      subjectRate: median(rates[name]),
      baselineRate: median(base),
      ratio: median(ratios),
      ratios,
      // The same comparison per CPU-second: a cross-check when the machine is loaded.
      cpuRatio: median(cpuRates[name].map((rate, i) => rate / cpuBase[i])),
    };
  }
  return subjects ? results : results.subject;
}

/**
 * Samples `process.memoryUsage.rss()` every `intervalMs` (plus `extra()` if given, e.g. hashes in
 * flight) until `stop()`, which returns the peak RSS, the peak of `extra` and the sample count.
 * The sampling timer runs on the main thread, so it sees memory held by native work on the libuv
 * thread pool (argon2) as long as the event loop is not blocked.
 */
export function sampleRss({ intervalMs = 2, extra } = {}) {
  let peak = process.memoryUsage.rss();
  let peakExtra = extra ? extra() : 0;
  let samples = 1;
  const take = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    if (extra) peakExtra = Math.max(peakExtra, extra());
    samples++;
  };
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peak, peakExtra, samples };
    },
  };
}

/** `12 345/s`, `63.2/s`. */
export function formatRate(rate) {
  if (!Number.isFinite(rate)) return 'n/a';
  return rate >= 1000 ? `${Math.round(rate).toLocaleString('en-US')}/s` : `${rate.toFixed(1)}/s`;
}

/** `0.93` (or more digits, so a figure printed next to PASS/FAIL never looks rounded over the line). */
export function formatRatio(ratio, digits = 2) {
  return Number.isFinite(ratio) ? ratio.toFixed(digits) : 'n/a';
}

/** `123.4 MiB`. */
export function formatMiB(bytes) {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** `1.2 s`, `340 ms`. */
export function formatDuration(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** 'PASS' when `value` meets the target (`>=` by default, `<` with `{ below: true }`), else 'FAIL'. */
export function verdict(value, target, { below = false } = {}) {
  if (!Number.isFinite(value)) return 'FAIL';
  return (below ? value < target : value >= target) ? 'PASS' : 'FAIL';
}

/**
 * Prints rows as an aligned plain-text table. `columns` is a list of `{ key, title, align }`
 * (`align: 'right'` for numbers); each row is an object keyed by `key`.
 */
export function printTable(columns, rows) {
  const cells = rows.map((row) => columns.map((c) => String(row[c.key] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i].length)));
  const pad = (text, i) => (columns[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (parts) => `| ${parts.map(pad).join(' | ')} |`;
  console.log(line(columns.map((c) => c.title)));
  console.log(`|${widths.map((w, i) => (columns[i].align === 'right' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** Prints a section heading. */
export function heading(title) {
  console.log(`\n== ${title} ==`);
}

/** One line about the machine, so a reader can judge how noisy the figures are. */
export function describeMachine() {
  const [l1, l5] = os.loadavg();
  return (
    `node ${process.version}, ${os.availableParallelism()} CPU(s) (${os.cpus()[0]?.model?.trim() ?? 'unknown'}), ` +
    `load average ${l1.toFixed(2)} / ${l5.toFixed(2)} (1 / 5 min), ` +
    `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`
  );
}

/** Makes a temporary directory and returns `{ path, remove() }`. */
export function makeTempDir(prefix = 'auth-kit-bench-') {
  const path = mkdtempSync(join(os.tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A JWT secret for benchmarks only: random, 48 bytes, never printed. */
export function benchSecret() {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url');
}

/**
 * Tests that run the BUILT package in child processes (lazy drivers, two migrating processes)
 * need a `dist/` that matches the sources. The globalSetup (test/support/build.ts) builds once per
 * run and provides a snapshot of the package; {@link builtPackageDir} returns it. Without that
 * setup, `ensureFreshDist()` rebuilds with `npm run build` only when a source file is newer than
 * the build, under the same lock, and the package root is used.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newestSourceMtime } from './sources.js';
import { inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = ['dist/index.js', 'dist/index.cjs', 'dist/sqlite.js', 'dist/postgres.js'];
const LOCK = join(ROOT, 'node_modules', '.cache', 'auth-kit-test-build.lock');


function oldestBuiltMtime(): number {
  try {
    return Math.min(...BUILT.map((f) => statSync(join(ROOT, f)).mtimeMs));
  } catch {
    return 0;
  }
}

function isFresh(): boolean {
  return oldestBuiltMtime() >= newestSourceMtime();
}

async function withLock<T>(task: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than 3 minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 180_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the dist build lock');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds `dist/` with `npm run build` unless it is already newer than every source file. */
export async function ensureFreshDist(): Promise<void> {
  if (isFresh()) return;
  await withLock(async () => {
    if (isFresh()) return;
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  });
  if (oldestBuiltMtime() === 0) throw new Error('npm run build did not produce dist/');
}

/**
 * A directory whose package.json and dist/ are the built package, for child processes: there
 * `import 'auth-kit'` resolves through the package's own `exports` map.
 */
export async function builtPackageDir(): Promise<string> {
  const provided = inject('authKitPackageDir');
  if (provided) return provided;
  await ensureFreshDist();
  return ROOT;
}

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node` with `args` in `cwd` (default: the package root; pass {@link builtPackageDir} so
 * that `import 'auth-kit'` resolves to the built package) and collects its output.
 */
export function runNode(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

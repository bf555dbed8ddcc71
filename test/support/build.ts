/**
 * vitest globalSetup: makes sure `dist/` matches the sources before any test file runs, so tests
 * that spawn the BUILT package (the `auth-kit` bin, child processes importing 'auth-kit') work on a
 * fresh clone after `npm ci`. Runs `npm run build` at most once per `vitest run`, and only when a
 * file the package exports (or its bin) is missing or older than a source file. The build runs
 * under the same lock directory as test/support/dist.ts, so parallel runs never build at once.
 *
 * It then copies the built package (package.json + dist/, with a node_modules link) to a temp
 * directory, under that lock, and provides its path as `authKitPackageDir`: tests that spawn the
 * bin run that snapshot, so a rebuild by a parallel run (which cleans dist/) cannot pull files
 * from under them. The snapshot is removed at teardown.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newestSourceMtime } from './sources.js';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A snapshot of the built package (package.json, dist/, node_modules link) for child processes. */
    authKitPackageDir: string;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOCK = join(ROOT, 'node_modules', '.cache', 'auth-kit-test-build.lock');
const LOCK_STALE_MS = 180_000;

/** Every file package.json points at: export conditions and the bin. */
function builtFiles(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports?: unknown;
    bin?: string | Record<string, string>;
  };
  const files = new Set<string>();
  const walk = (node: unknown) => {
    if (typeof node === 'string') {
      if (node.startsWith('./dist/') && !node.endsWith('.d.ts') && !node.endsWith('.d.cts')) files.add(node);
    } else if (node && typeof node === 'object') {
      for (const value of Object.values(node)) walk(value);
    }
  };
  walk(pkg.exports);
  walk(pkg.bin);
  return [...files].map((f) => join(ROOT, f));
}


function staleness(): string | null {
  const newest = newestSourceMtime();
  for (const file of builtFiles()) {
    if (!existsSync(file)) return `${file.slice(ROOT.length)} is missing`;
    if (statSync(file).mtimeMs < newest) return `${file.slice(ROOT.length)} is older than the sources`;
  }
  return null;
}

async function withLock<T>(task: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** The globalSetup hook: build if needed, snapshot the build, provide its path. */
export default async function setup(project: TestProject): Promise<() => void> {
  const snapshot = mkdtempSync(join(tmpdir(), 'auth-kit-pkg-'));
  await withLock(async () => {
    const why = staleness();
    if (why !== null) {
      console.log(`[auth-kit tests] building dist/ (${why}) ...`);
      await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
      const still = staleness();
      if (still) console.warn(`[auth-kit tests] after npm run build, ${still}: tests of the built package may fail`);
    }
    cpSync(join(ROOT, 'package.json'), join(snapshot, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(snapshot, 'dist'), { recursive: true });
  });
  symlinkSync(join(ROOT, 'node_modules'), join(snapshot, 'node_modules'), 'dir');
  project.provide('authKitPackageDir', snapshot);
  return () => rmSync(snapshot, { recursive: true, force: true });
}

/**
 * Runs the BUILT `auth-kit` bin (dist/cli/index.js, built by the globalSetup in build.ts, which
 * hands over a snapshot of the built package so parallel rebuilds cannot disturb it) as a child
 * process, with a clean environment: no DATABASE_URL, NO_COLOR or AUTH_* leak in from the
 * shell running the tests. `runCliInTerminal` runs it on a pseudo-terminal through util-linux
 * `script`, for the hidden prompt and colour.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bin under test: in the globalSetup's snapshot of the built package, else in ROOT/dist. */
export function binPath(): string {
  return join(inject('authKitPackageDir') ?? ROOT, 'dist', 'cli', 'index.js');
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Working directory; default: the package root. */
  readonly cwd?: string;
  /** Added to the clean environment; `undefined` values remove a variable. */
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
}

function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|NO_COLOR|FORCE_COLOR|AUTH_|JWT_|PG)/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `node dist/cli/index.js ...args` and collects its output and exit code. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath(), ...args], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** True when util-linux `script` is available to give the bin a pseudo-terminal. */
export function hasScript(): boolean {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /util-linux/.test(probe.stdout + probe.stderr);
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the bin on a pseudo-terminal (stdin, stdout and stderr are all the terminal) and answers
 * prompts: each `reply` is typed once `expect` has appeared in the output since the last reply.
 * Returns the terminal transcript (stdout and stderr mixed, as on a screen) and the exit code.
 */
export function runCliInTerminal(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; dialog?: { expect: string; reply: string }[] } = {},
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, binPath(), ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv({ TERM: 'xterm-256color', ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const dialog = [...(options.dialog ?? [])];
    let screen = '';
    let seenUpTo = 0;
    const onData = (d: string) => {
      screen += d;
      const next = dialog[0];
      if (next && screen.indexOf(next.expect, seenUpTo) !== -1) {
        seenUpTo = screen.length;
        dialog.shift();
        child.stdin.write(next.reply);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code, screen });
    });
  });
}

/** The escape character: output on a pipe must never contain it. */
export const ESC = '\u001b';

// Every test spawns several processes that each load node, the library and argon2; on a shared,
// busy machine one spawn can take seconds. A generous limit, not a timing assertion.
export const SLOW = { timeout: 300_000 };

/**
 * Returns a function that makes a fresh temp directory named `prefix…`; all of them are removed
 * after the test file. Call it at the top level of a test file.
 */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** Runs the bin (see {@link runCli}); output on pipes must never carry colour. */
export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await runCli(args, options);
  expect(result.stdout + result.stderr, `escape codes on a pipe from: auth-kit ${args.join(' ')}`).not.toContain(ESC);
  return result;
}

/** A failure: the exit code and exactly one line on stderr, naming the command. */
export function expectFailure(result: CliResult, code: 1 | 2, command: string): string {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0].startsWith(`${command}: `), lines[0]).toBe(true);
  return lines[0];
}

/** Exit code 0 (stderr shown when not). */
export function expectOk(result: CliResult): void {
  expect(result.code, `stderr: ${result.stderr}`).toBe(0);
}

/**
 * `npm run demo` (examples/demo.ts) runs as a child process in an empty temporary folder, without
 * JWT_SECRET_KEY and with CI set: it must make a throw-away secret and say so, migrate the SQLite
 * default there, print the curl commands, complete register → token → me against itself, and exit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function runDemo(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', CI: 'true' };
  delete env.JWT_SECRET_KEY;
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    // --tsconfig: resolve 'auth-kit' to the sources (the project's paths) from a foreign cwd.
    const child = spawn(TSX, ['--tsconfig', join(ROOT, 'tsconfig.json'), join(ROOT, 'examples', 'demo.ts'), ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  for (const framework of ['express', 'hono', 'fastify']) {
    it(`runs the ${framework} example: throw-away secret, curl commands, register → token → me, then exits`, { timeout: 90_000 }, async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'auth-kit-demo-'));
      dirs.push(cwd);
      const { code, stdout, stderr } = await runDemo(cwd, ['--framework', framework]);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toMatch(/JWT_SECRET_KEY is not set: the demo generated a throw-away secret/);
      expect(stdout).toContain(`the ${framework} example app is listening on http://127.0.0.1:`);
      expect(stdout).toContain('sqlite:///./app.db (migrated)');
      expect(stdout).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/auth\/register/);
      expect(stdout).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/auth\/token -d grant_type=password/);
      expect(stdout).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/auth\/me -H "Authorization: Bearer \$TOKEN"/);
      expect(stdout).toMatch(/register → 201 user #\d+ demo-[0-9a-f]{8}@example\.com/);
      expect(stdout).toMatch(/token {4}→ 200 bearer token, expires in 1800 s, Cache-Control: no-store/);
      expect(stdout).toMatch(/me {7}→ 200 demo-[0-9a-f]{8}@example\.com \(active: true\)/);
      expect(stdout).toMatch(/notes without a token → 401/);
      expect(stdout).toContain('Self-check passed.');
      // Never a token on screen.
      expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
      expect(existsSync(join(cwd, 'app.db'))).toBe(true);
    });
  }
});

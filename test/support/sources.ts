/**
 * When the package's sources last changed: the newest modification time under src/ and adapters/
 * and of package.json and tsup.config.ts. Shared by the build globalSetup and the dist helpers,
 * which both compare it with dist/ to decide whether to rebuild. No vitest import: the
 * globalSetup loads this too.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function newestSourceMtime(): number {
  let newest = 0;
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|cts|js|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'adapters'));
  for (const file of ['package.json', 'tsup.config.ts']) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest;
}

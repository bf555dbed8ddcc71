import { type Options, defineConfig } from 'tsup';

// The `auth-kit` bin: ESM only, code-split so each command is its own chunk, loaded only when
// run. It reaches the library only through 'auth-kit' (the published API). Its `#!` line comes
// from src/cli/index.ts, so only the entry gets it, not the chunks.
const cli: Options = {
  entry: { index: 'src/cli/index.ts' },
  outDir: 'dist/cli',
  format: ['esm'],
  dts: false,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  splitting: true,
  external: ['auth-kit'],
};

export default defineConfig([{
  entry: {
    index: 'src/index.ts',
    sqlite: 'adapters/sqlite.ts',
    postgres: 'adapters/postgres.ts',
    express: 'adapters/express.ts',
    hono: 'adapters/hono.ts',
    fastify: 'adapters/fastify.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: ['!cli/**'], // dist/cli is the bin's build (above), which cleans it itself
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  splitting: false,
  // Adapters import the core through the package's own name, so ESM and CJS each load one copy.
  external: ['auth-kit'],
}, cli]);

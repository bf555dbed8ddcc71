import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    sqlite: 'adapters/sqlite.ts',
    postgres: 'adapters/postgres.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  splitting: false,
  // Adapters import the core through the package's own name, so ESM and CJS each load one copy.
  external: ['auth-kit'],
});

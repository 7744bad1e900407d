import { defineConfig } from 'vitest/config';

// One runner for the whole workspace. `pnpm test` runs everything with the embedded adapters;
// `pnpm test:infra` runs the same suites with DIVOC_INFRA=real against Kafka, Postgres, Redis, etcd
// and Keycloak (one file at a time there: the suites share the brokers and the database server).
const real = process.env.DIVOC_INFRA === 'real';

export default defineConfig({
  test: {
    include: [
      'packages/**/test/**/*.test.ts',
      'services/**/test/**/*.test.ts',
      'system/test/**/*.test.ts',
      'deploy/**/test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: real ? 120_000 : 30_000,
    hookTimeout: real ? 120_000 : 60_000,
    fileParallelism: !real,
  },
});

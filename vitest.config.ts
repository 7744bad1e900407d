import { defineConfig } from 'vitest/config';

// One runner for the whole workspace. `pnpm test` runs everything with the embedded adapters;
// `pnpm test:infra` runs the same suites with DIVOC_INFRA=real against Kafka, Postgres, Redis, etcd and Keycloak.
export default defineConfig({
  test: {
    include: ['packages/**/test/**/*.test.ts', 'services/**/test/**/*.test.ts', 'deploy/**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

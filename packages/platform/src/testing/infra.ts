/**
 * Which adapter set the tests run against. `pnpm test` uses the embedded adapters; `pnpm test:infra`
 * sets DIVOC_INFRA=real and runs the same suites against Kafka, Postgres, Redis, etcd and Keycloak
 * (started by scripts/infra/up). Tests never skip: a missing service is a failure.
 */
export const useRealInfra = (): boolean => process.env.DIVOC_INFRA === 'real';

/** Where the real services listen in CI and on a laptop (scripts/infra/up); each can be overridden. */
export const realInfraEnv = () => ({
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  ETCD_HOSTS: process.env.ETCD_HOSTS ?? 'http://127.0.0.1:2379',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/15',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/divoc_test',
  KEYCLOAK_URL: process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8180',
});

/** A name no other test run uses (topics, groups, key prefixes). */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

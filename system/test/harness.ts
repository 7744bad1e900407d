import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { topicSpecs } from '@divoc/contracts';
import { generateSigningKey, type KeyType, type SigningKey, type TrustedKey } from '@divoc/credentials';
import {
  type Adapters,
  createAdapters,
  createLogger,
  createMetricsRegistry,
  type HttpApp,
  parseEnv,
  type Registry,
  silentLogger,
} from '@divoc/platform';
import { deleteKafkaTopics, realInfraEnv, uniqueName, useRealInfra } from '@divoc/platform/testing';
import pg from 'pg';
import { fixturePath } from '../../test-fixtures/index.js';
import { type ComposedSystem, composeSystem, SystemEnv } from '../src/index.js';

const repositoryRoot = join(import.meta.dirname, '..', '..');

export interface TestSystem {
  adapters: Adapters;
  system: ComposedSystem;
  env: SystemEnv;
  key: SigningKey;
  /** Metrics of the adapters (the bus reports consumer lag here). */
  adapterMetrics: Registry;
  /** Log lines of every service (JSON), when started with `captureLogs`. */
  logs: string[];
  /** The signing key as a verifier trusts it. */
  trustedKeys: TrustedKey[];
  /** A bearer token the system accepts (dev issuer, or Keycloak in the real set once configured). */
  token(roles: string[], options?: { username?: string; mobile?: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * Adapters for one test file: embedded ones (in-memory PGlite, in-process bus, memory cache, a copy
 * of etcd-config/, dev issuer) in `pnpm test`; the real ones in `pnpm test:infra`, isolated per run
 * by a fresh database, a topic prefix and an etcd key prefix. `keycloak: true` makes the real set
 * authenticate with the real Keycloak of scripts/infra (tokens then come from `identityToken`).
 */
export const startTestSystem = async ({
  keyType = 'ED25519' as KeyType,
  captureLogs = false,
  keycloak = false,
} = {}): Promise<TestSystem> => {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = (service: string) =>
    captureLogs ? createLogger({ service, level: 'info', destination: sink }) : silentLogger();
  const run = uniqueName('e2e').replace(/-/g, '_');
  const dataDir = mkdtempSync(join(tmpdir(), 'divoc-e2e-'));
  const base = { DIVOC_DATA_DIR: dataDir, DIVOC_CONFIG_DEFAULTS: join(repositoryRoot, 'etcd-config') };
  let cleanup = async (): Promise<void> => {};
  let envInput: Record<string, string> = base;
  if (useRealInfra()) {
    const infra = realInfraEnv();
    const admin = new pg.Client({ connectionString: infra.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${run}`);
    await admin.end();
    const url = new URL(infra.DATABASE_URL);
    url.pathname = `/${run}`;
    envInput = {
      ...base,
      DATABASE_URL: url.toString(),
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      REDIS_URL: infra.REDIS_URL,
      REDIS_PREFIX: `${run}:`,
      ETCD_HOSTS: infra.ETCD_HOSTS,
      ETCD_PREFIX: `${run}/`,
      ...(keycloak ? { KEYCLOAK_URL: infra.KEYCLOAK_URL } : {}),
    };
    cleanup = async () => {
      const dropper = new pg.Client({ connectionString: infra.DATABASE_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
      await dropper.end();
      await deleteKafkaTopics({ brokers: infra.KAFKA_BROKERS.split(','), prefix: `${run}.` });
    };
  }
  const env = parseEnv(SystemEnv, envInput);
  const adapterMetrics = createMetricsRegistry('adapters', { defaults: false });
  const adapters = await createAdapters({
    env,
    clientId: run,
    logger: logger('adapters'),
    metrics: adapterMetrics,
    inMemory: true,
  });
  await adapters.bus.ensureTopics(topicSpecs());
  const key = generateSigningKey(keyType);
  const system = await composeSystem({ adapters, env, key, logger });
  return {
    adapters,
    adapterMetrics,
    logs,
    system,
    env,
    key,
    trustedKeys: [{ ...key, controller: env.CERTIFICATE_ISSUER }],
    async token(roles, options = {}) {
      if (adapters.devIssuer === undefined) throw new Error('no token issuer configured for this adapter set');
      return adapters.devIssuer.issue({ roles, ...options });
    },
    async close() {
      await system.registry.close();
      await adapters.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

export const loadFixture = async <T = any>(name: string): Promise<T> =>
  JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(fixturePath('divoc', name), 'utf8')));

/** Polls until `check` returns a value (not undefined) or the time is up. */
export const eventually = async <T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 50 } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/** A request of the ledger once it has left "accepted". */
export interface SettledRequest {
  request_id: string;
  status: string;
  certificate_id: string | null;
  error: string | null;
}

/** Waits until every request has left "accepted" (issued, duplicate or failed); returns them in the order given. */
export const settledRequests = async (
  t: TestSystem,
  requestIds: readonly string[],
  options?: { timeoutMs?: number },
): Promise<SettledRequest[]> =>
  eventually(async () => {
    const { rows } = await t.adapters.db.query<SettledRequest>(
      `SELECT request_id, status, certificate_id, error FROM requests WHERE request_id = ANY($1) AND status <> 'accepted'`,
      [requestIds],
    );
    if (rows.length !== requestIds.length) return undefined;
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    return requestIds.map((id) => byId.get(id) as SettledRequest);
  }, options);

/** POSTs certify `items` to the gateway (v3 unless `url` says otherwise), expects 200, returns the request ids. */
export const submitCertify = async (
  gateway: HttpApp,
  token: string,
  items: readonly object[],
  url = '/divoc/api/v3/certify',
): Promise<string[]> => {
  const response = await gateway.inject({
    method: 'POST',
    url,
    payload: items as object[],
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
  return (response.json() as { requests: { requestId: string }[] }).requests.map((request) => request.requestId);
};

/** TEST-ONLY identities of keycloak/realm-export.json. */
const KEYCLOAK_TEST_IDENTITIES = {
  adminApi: {
    grant_type: 'client_credentials',
    client_id: 'admin-api',
    client_secret: 'test-only-admin-api-secret-do-not-use-in-production',
  },
  citizen: (mobile: string) => ({
    grant_type: 'password',
    client_id: 'citizen-portal',
    username: `test-citizen-${mobile}`,
    password: 'Test-Only-Citizen-Passw0rd!',
    scope: 'openid',
  }),
};

/**
 * A token for a test identity: from the real Keycloak when the system authenticates with it, else an
 * equivalent one (same roles, same mobile number) from the dev issuer.
 */
export const identityToken = async (t: TestSystem, who: 'adminApi' | { citizen: string }): Promise<string> => {
  if (t.env.KEYCLOAK_URL === undefined) {
    return who === 'adminApi'
      ? t.token(['facility-staff', 'api'], { username: 'service-account-admin-api' })
      : t.token(['recipient'], { mobile: who.citizen });
  }
  const form = who === 'adminApi' ? KEYCLOAK_TEST_IDENTITIES.adminApi : KEYCLOAK_TEST_IDENTITIES.citizen(who.citizen);
  const response = await fetch(`${t.env.KEYCLOAK_URL}/realms/divoc/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  if (!response.ok)
    throw new Error(`Keycloak refused the ${JSON.stringify(who)} login: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
};

import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDevIssuer, type DevIssuer } from './auth/dev-issuer.js';
import type { Authenticator } from './auth/jwt.js';
import { createKeycloakAuthenticator } from './auth/keycloak.js';
import { createKafkaBus } from './bus/kafka.js';
import { createMemoryBus } from './bus/memory.js';
import type { EventBus } from './bus/port.js';
import { createMemoryCache } from './cache/memory.js';
import type { Cache } from './cache/port.js';
import { createRedisCache } from './cache/redis.js';
import { createEtcdConfigStore } from './config/etcd.js';
import { createFileConfigStore } from './config/files.js';
import type { ConfigStore } from './config/port.js';
import {
  type ConfigRegistry,
  createConfigRegistry,
  createEtcdConfigKeys,
  type EtcdConfigKeys,
  etcdConfigKeyList,
  loadDefaultConfig,
} from './config/registry.js';
import { createPgliteDatabase } from './db/pglite.js';
import type { Database } from './db/port.js';
import { createPostgresDatabase } from './db/postgres.js';
import type { InfrastructureEnv } from './env.js';
import type { Logger } from './logging.js';
import type { Registry } from './metrics.js';

/** The five ports of DESIGN §4, each bound to its real or embedded adapter. */
export interface Adapters {
  db: Database;
  bus: EventBus;
  cache: Cache;
  config: ConfigStore;
  authenticator: Authenticator;
  /** Present in embedded mode: issues the tokens the embedded authenticator accepts. */
  devIssuer?: DevIssuer;
  /** Which adapter each port uses, for the start-up log line. */
  describe(): Record<'db' | 'bus' | 'cache' | 'config' | 'auth', string>;
  close(): Promise<void>;
}

export interface AdapterOptions {
  env: InfrastructureEnv;
  /** Names the Kafka client and the embedded data (one process may host several services). */
  clientId: string;
  logger: Logger;
  metrics: Registry;
  /** Embedded PGlite in memory instead of under DIVOC_DATA_DIR (tests). */
  inMemory?: boolean;
}

/**
 * Chooses each adapter from the environment (DESIGN §4): KAFKA_BROKERS, DATABASE_URL, REDIS_URL,
 * ETCD_HOSTS and KEYCLOAK_URL each switch their port to the real thing; unset, the embedded adapter
 * keeps its data under DIVOC_DATA_DIR.
 */
export const createAdapters = async ({
  env,
  clientId,
  logger,
  metrics,
  inMemory = false,
}: AdapterOptions): Promise<Adapters> => {
  const dataDir = resolve(env.DIVOC_DATA_DIR);
  const closers: (() => Promise<void>)[] = [];

  const db = env.DATABASE_URL
    ? createPostgresDatabase({ url: env.DATABASE_URL, maxConnections: env.DATABASE_POOL_SIZE })
    : await createPgliteDatabase(inMemory ? {} : { dataDir: join(dataDir, 'pglite') });
  closers.push(() => db.close());

  const bus = env.KAFKA_BROKERS
    ? createKafkaBus({ brokers: env.KAFKA_BROKERS, clientId, logger, metrics, topicPrefix: env.KAFKA_TOPIC_PREFIX })
    : createMemoryBus({ logger, metrics });
  closers.push(() => bus.close());

  const cache = env.REDIS_URL
    ? createRedisCache({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX, logger })
    : createMemoryCache();
  closers.push(() => cache.close());

  let config: ConfigStore;
  if (env.ETCD_HOSTS) {
    config = createEtcdConfigStore({ hosts: env.ETCD_HOSTS, prefix: env.ETCD_PREFIX, logger });
  } else {
    // Embedded mode edits a copy of the defaults, never the files under version control.
    const directory = join(dataDir, 'etcd');
    if (!existsSync(directory)) {
      mkdirSync(directory, { recursive: true });
      cpSync(resolve(env.DIVOC_CONFIG_DEFAULTS), directory, { recursive: true });
    }
    config = createFileConfigStore({ directory, logger });
  }
  closers.push(() => config.close());

  let authenticator: Authenticator;
  let devIssuer: DevIssuer | undefined;
  if (env.KEYCLOAK_URL) {
    authenticator = createKeycloakAuthenticator({
      url: env.KEYCLOAK_URL,
      realm: env.KEYCLOAK_REALM,
      rolesClient: env.KEYCLOAK_ROLES_CLIENT,
      allowedClients: env.KEYCLOAK_ALLOWED_CLIENTS,
    });
  } else {
    devIssuer = await createDevIssuer(inMemory ? {} : { directory: join(dataDir, 'auth') });
    authenticator = devIssuer.authenticator({ rolesClient: env.KEYCLOAK_ROLES_CLIENT });
  }

  return {
    db,
    bus,
    cache,
    config,
    authenticator,
    ...(devIssuer ? { devIssuer } : {}),
    describe: () => ({
      db: env.DATABASE_URL ? 'postgres' : `pglite (${inMemory ? 'memory' : join(dataDir, 'pglite')})`,
      bus: env.KAFKA_BROKERS ? `kafka (${env.KAFKA_BROKERS.join(',')})` : 'in-process',
      cache: env.REDIS_URL ? 'redis' : 'memory',
      config: env.ETCD_HOSTS ? `etcd (${env.ETCD_HOSTS.join(',')})` : `files (${join(dataDir, 'etcd')})`,
      auth: env.KEYCLOAK_URL ? `keycloak (${env.KEYCLOAK_URL}, realm ${env.KEYCLOAK_REALM})` : 'dev issuer',
    }),
    async close() {
      // Reverse order of creation; one failing close must not keep the others open.
      for (const close of closers.reverse())
        await close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
    },
  };
};

/** The typed etcd keys and the registry that keeps them validated and current. */
export const createEtcdConfig = async (
  store: ConfigStore,
  defaultsDirectory: string,
  options: { logger: Logger; metrics?: Registry },
): Promise<{ keys: EtcdConfigKeys; registry: ConfigRegistry }> => {
  const keys = createEtcdConfigKeys(await loadDefaultConfig(resolve(defaultsDirectory)));
  const registry = await createConfigRegistry(store, etcdConfigKeyList(keys), options);
  return { keys, registry };
};

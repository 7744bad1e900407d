import { resolve } from 'node:path';
import { configuredPublicKeys, configuredSigningKey, KeyConfigurationError } from '@divoc/credentials';
import {
  createAdapters,
  createLogger,
  createMetricsRegistry,
  EnvironmentError,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createRevocationService } from './app.js';
import { RevocationServiceEnv } from './settings.js';

const SERVICE = 'revocation-service';
const env = parseEnv(RevocationServiceEnv);
const embedded = env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;
const developmentDirectory = embedded ? resolve(env.DIVOC_DATA_DIR) : undefined;
let keys: { key: ReturnType<typeof configuredSigningKey>; trusted: ReturnType<typeof configuredPublicKeys> };
try {
  const key = configuredSigningKey({
    pem: env.CERTIFICATE_PRIVATE_KEY,
    file: env.CERTIFICATE_PRIVATE_KEY_FILE,
    type: env.SIGNING_KEY_TYPE,
    developmentDirectory,
  });
  keys = {
    key,
    trusted:
      env.CERTIFICATE_PUBLIC_KEY || embedded
        ? configuredPublicKeys({ pem: env.CERTIFICATE_PUBLIC_KEY, developmentDirectory })
        : [key],
  };
} catch (error) {
  if (error instanceof KeyConfigurationError) throw new EnvironmentError([error.message]);
  throw error;
}
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
logger.info({ adapters: adapters.describe() }, 'configured');

const trustedKeys = keys.trusted.map((key) => ({ ...key, controller: env.CERTIFICATE_ISSUER }));
const service = await createRevocationService({
  db: adapters.db,
  bus: adapters.bus,
  cache: adapters.cache,
  authenticator: adapters.authenticator,
  logger,
  metrics,
  issuer: env.CERTIFICATE_ISSUER,
  key: () => keys.key,
  trustedKeys: () => trustedKeys,
  statusListUrl: (listId) => `${env.CERTIFICATE_STATUS_BASE_URL}${listId}`,
});
await runService({ name: SERVICE, port: env.PORT, logger, service, close: () => adapters.close() });

import { credentialConfigFrom } from '@divoc/credentials';
import {
  createAdapters,
  createEtcdConfig,
  createLogger,
  createMetricsRegistry,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createCertificateSigner } from './app.js';
import { loadSigningKey, SignerEnv } from './settings.js';

const SERVICE = 'certificate-signer';
const env = parseEnv(SignerEnv);
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const key = loadSigningKey(env);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, { logger, metrics });
logger.info({ adapters: adapters.describe(), keyId: key.keyId, keyType: key.type }, 'configured');

const signer = await createCertificateSigner({
  db: adapters.db,
  bus: adapters.bus,
  logger,
  metrics,
  authenticator: adapters.authenticator,
  key: () => key,
  config: () => credentialConfigFrom(env, { icd: registry.get(keys.ICD), vaccineIcd: registry.get(keys.VACCINE_ICD) }),
  concurrency: env.SIGNER_CONCURRENCY,
  statusListUrl: (listId) => `${env.CERTIFICATE_STATUS_BASE_URL}${listId}`,
  updateLimit: env.CERTIFICATE_UPDATE_LIMIT,
});
await runService({
  name: SERVICE,
  port: env.PORT,
  logger,
  service: signer,
  close: async () => {
    await registry.close();
    await adapters.close();
  },
});

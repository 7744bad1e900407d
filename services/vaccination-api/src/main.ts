import {
  createAdapters,
  createEtcdConfig,
  createLogger,
  createMetricsRegistry,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createVaccinationApi } from './app.js';
import { VaccinationApiEnv } from './settings.js';

const SERVICE = 'vaccination-api';
const env = parseEnv(VaccinationApiEnv);
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, { logger, metrics });
logger.info({ adapters: adapters.describe() }, 'configured');

const api = await createVaccinationApi({
  db: adapters.db,
  bus: adapters.bus,
  authenticator: adapters.authenticator,
  logger,
  metrics,
  vaccines: () => registry.get(keys.VACCINE_ICD),
  updateLimit: env.CERTIFICATE_UPDATE_LIMIT,
  bulk: { maxBytes: env.BULK_UPLOAD_MAX_BYTES, retentionDays: env.BULK_ERROR_RETENTION_DAYS },
});
await runService({
  name: SERVICE,
  port: env.PORT,
  logger,
  service: api,
  close: async () => {
    await registry.close();
    await adapters.close();
  },
});

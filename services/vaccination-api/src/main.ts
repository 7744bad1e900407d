import {
  createAdapters,
  createEtcdConfig,
  createLogger,
  createMetricsRegistry,
  envPort,
  InfrastructureEnv,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { z } from 'zod';
import { createVaccinationApi } from './app.js';

const SERVICE = 'vaccination-api';
const env = parseEnv(
  InfrastructureEnv.extend({
    PORT: envPort(8000),
    CERTIFICATE_UPDATE_LIMIT: z.coerce.number().int().min(0).default(100),
  }),
);
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

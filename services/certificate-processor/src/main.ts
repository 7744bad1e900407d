import {
  createAdapters,
  createLogger,
  createMetricsRegistry,
  envPort,
  InfrastructureEnv,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createCertificateProcessor } from './app.js';

const SERVICE = 'certificate-processor';
const env = parseEnv(InfrastructureEnv.extend({ PORT: envPort(8002) }));
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
logger.info({ adapters: adapters.describe() }, 'configured');

const processor = await createCertificateProcessor({
  db: adapters.db,
  bus: adapters.bus,
  logger,
  metrics,
  authenticator: adapters.authenticator,
});
await runService({ name: SERVICE, port: env.PORT, logger, service: processor, close: () => adapters.close() });

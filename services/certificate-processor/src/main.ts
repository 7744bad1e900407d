import { createAdapters, createLogger, createMetricsRegistry, parseEnv, runService } from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createCertificateProcessor } from './app.js';
import { CertificateProcessorEnv, recipientDirectoryFrom } from './settings.js';

const SERVICE = 'certificate-processor';
const env = parseEnv(CertificateProcessorEnv);
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const recipients = recipientDirectoryFrom(env);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
logger.info({ adapters: adapters.describe(), recipientProvisioning: recipients !== undefined }, 'configured');

const processor = await createCertificateProcessor({
  db: adapters.db,
  bus: adapters.bus,
  logger,
  metrics,
  authenticator: adapters.authenticator,
  recipients,
});
await runService({ name: SERVICE, port: env.PORT, logger, service: processor, close: () => adapters.close() });

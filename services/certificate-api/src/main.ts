import { preloadFonts } from '@divoc/documents';
import {
  createAdapters,
  createEtcdConfig,
  createLogger,
  createMetricsRegistry,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createCertificateApi, createTravelExports } from './app.js';
import { createPdfRenderer } from './renderer.js';
import { CertificateApiEnv, loadExportKeys, loadTrustedPublicKeys, travelExportSettings } from './settings.js';

const SERVICE = 'certificate-api';
const env = parseEnv(CertificateApiEnv);
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const trustedKeys = loadTrustedPublicKeys(env).map((key) => ({ ...key, controller: env.CERTIFICATE_ISSUER }));
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, { logger, metrics });
const travelExports = createTravelExports(
  travelExportSettings(env, env.PORT, { registry, keys }),
  await loadExportKeys(env),
);
// Font parsing costs a quarter of a second: pay it at start, not on the first download.
preloadFonts();
logger.info(
  {
    adapters: adapters.describe(),
    trustedKeys: trustedKeys.map((key) => key.keyId),
    travelExports: travelExports.enabled,
  },
  'configured',
);

const api = await createCertificateApi({
  db: adapters.db,
  bus: adapters.bus,
  cache: adapters.cache,
  authenticator: adapters.authenticator,
  logger,
  metrics,
  issuer: env.CERTIFICATE_ISSUER,
  trustedKeys: () => trustedKeys,
  exports: travelExports,
  renderer: createPdfRenderer({
    template: (kind) =>
      registry.get(kind === 'vaccination' ? keys.vaccineCertificateTemplate : keys.testCertificateTemplate),
    icd: () => registry.get(keys.ICD),
  }),
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

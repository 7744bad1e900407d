import { REVOKED_TEMPLATE } from '@divoc/contracts';
import {
  createAdapters,
  createEtcdConfig,
  createLogger,
  createMetricsRegistry,
  parseEnv,
  runService,
} from '@divoc/platform';
import { migrate } from '@divoc/store';
import { createNotificationService } from './app.js';
import {
  createChannels,
  downloadUrlOf,
  NotificationEnv,
  retrySettings,
  smsGatewayOptions,
  smtpOptions,
} from './settings.js';

const SERVICE = 'notification-service';
const env = parseEnv(NotificationEnv);
const logger = createLogger({ service: SERVICE, level: env.LOG_LEVEL });
const metrics = createMetricsRegistry(SERVICE);
const adapters = await createAdapters({ env, clientId: SERVICE, logger, metrics });
await migrate(adapters.db, logger);
const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, { logger, metrics });
const channels = createChannels(env);

// Where messages go, never with credentials (a GET gateway's URL may carry its key: only the origin is logged).
const sms = smsGatewayOptions(env);
const email = smtpOptions(env);
logger.info(
  {
    adapters: adapters.describe(),
    sms: sms ? { preset: env.SMS_PRESET, gateway: new URL(sms.url.replace(/\{\{[^}]*\}\}/g, 'x')).origin } : 'disabled',
    email: email ? { host: email.host, port: email.port, secure: email.secure } : 'disabled',
    notifyOnRevoke: env.NOTIFY_ON_REVOKE,
  },
  'configured',
);
if (!sms && !email) logger.warn('no channel is enabled (ENABLE_SMS, ENABLE_EMAIL): certificates are not notified');
if (env.NOTIFY_ON_REVOKE && registry.get(keys.NOTIFICATION_TEMPLATES)[REVOKED_TEMPLATE] === undefined) {
  logger.warn(`NOTIFY_ON_REVOKE is set but NOTIFICATION_TEMPLATES has no ${REVOKED_TEMPLATE}: those go to notify.dlq`);
}

const service = await createNotificationService({
  db: adapters.db,
  bus: adapters.bus,
  logger,
  metrics,
  authenticator: adapters.authenticator,
  templates: () => registry.get(keys.NOTIFICATION_TEMPLATES),
  channels,
  downloadUrl: downloadUrlOf(env),
  notifyOnRevoke: env.NOTIFY_ON_REVOKE,
  retry: retrySettings(env),
  concurrency: env.NOTIFY_CONCURRENCY,
  parallelSends: env.NOTIFY_PARALLEL_SENDS,
});
await runService({
  name: SERVICE,
  port: env.PORT,
  logger,
  service,
  close: async () => {
    await Promise.all(Object.values(channels).map((channel) => channel.close()));
    await registry.close();
    await adapters.close();
  },
});

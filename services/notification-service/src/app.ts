import { type NotificationTemplates, TOPICS } from '@divoc/contracts';
import {
  type Authenticator,
  type Consumer,
  createHttpApp,
  type Database,
  type EventBus,
  type HttpApp,
  type Logger,
  type Registry,
} from '@divoc/platform';
import type { Channel, ChannelKind } from './channels/port.js';
import { createDeliverer, DEFAULT_RETRY, type RetrySettings } from './deliver.js';
import { createEventHandler } from './handle-events.js';
import { createNotificationMetrics } from './metrics.js';
import { createRenderer } from './render.js';
import { registerNotificationRoutes } from './routes.js';

export { type Channel, type ChannelKind, DeliveryError, type OutgoingNotification } from './channels/port.js';
export { createHttpSmsGateway, type HttpSmsGatewayOptions, MSG91_PRESET } from './channels/sms-gateway.js';
export { createSmtpChannel, type SmtpChannelOptions } from './channels/smtp.js';
export { DEFAULT_RETRY, type RetrySettings } from './deliver.js';
export { SOURCE_HEADERS } from './handle-events.js';
export { maskEmail, maskPhone, maskRecipient, maskText } from './mask.js';
export { NOTIFICATION_PATH } from './routes.js';

export interface NotificationServiceDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: Registry;
  authenticator: Authenticator;
  /** The NOTIFICATION_TEMPLATES value in force (hot-reloaded: read for every message). */
  templates: () => NotificationTemplates;
  /** The enabled channels; a missing one is disabled. */
  channels: Partial<Record<ChannelKind, Channel>>;
  /** CERTIFICATE_DOWNLOAD_URL: the link {{downloadUrl}} prints, with {certificateId}/{preEnrollmentCode} filled in. */
  downloadUrl: string;
  /** Also send `recipientRevoked` when a certificate is revoked (NOTIFY_ON_REVOKE, default false). */
  notifyOnRevoke?: boolean;
  /** Attempts, backoff and timeouts (defaults: DEFAULT_RETRY). */
  retry?: Partial<RetrySettings>;
  /** Consumer group (default `notification-service`). */
  groupId?: string;
  /** Partitions handled at the same time (default 4). */
  concurrency?: number;
  /** Messages of one partition per batch (default 50: a batch of failing messages keeps a partition busy). */
  batchSize?: number;
  /** Messages of one batch sent at the same time (default 8). */
  parallelSends?: number;
}

export interface NotificationService {
  http: HttpApp;
  /** Starts consuming `certified`, `notify` (and `revoked` with notifyOnRevoke). */
  start(): Promise<void>;
  /** Ends retry waits, stops consuming after the batch in flight, then closes the HTTP server. */
  stop(): Promise<void>;
}

/**
 * The notification service (DESIGN §2): SMS and email from etcd templates when a certificate is issued
 * (and revoked), or when a service account asks, each message logged, retried and never sent twice.
 * Takes its ports and channel adapters as arguments; the channels are closed by their owner.
 */
export const createNotificationService = async (deps: NotificationServiceDeps): Promise<NotificationService> => {
  const { db, bus, logger } = deps;
  const metrics = createNotificationMetrics(deps.metrics);
  const renderer = createRenderer(deps.templates, deps.downloadUrl);
  let stopping = new AbortController();
  let consumer: Consumer | undefined;

  const http = await createHttpApp({
    service: 'notification-service',
    title: 'DIVOC notification service',
    description: 'SMS and email notifications from NOTIFICATION_TEMPLATES, with a delivery log and retries.',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    readiness: { database: () => db.health(), bus: () => bus.health() },
    bodyLimit: 64 * 1024,
  });
  registerNotificationRoutes(http, {
    bus,
    logger,
    metrics,
    renderer,
    enabled: { sms: deps.channels.sms !== undefined, email: deps.channels.email !== undefined },
    downloadUrl: deps.downloadUrl,
  });

  const deliver = createDeliverer({
    db,
    logger,
    metrics,
    channels: deps.channels,
    renderer,
    retry: { ...DEFAULT_RETRY, ...deps.retry },
    stopping: () => stopping.signal,
  });
  const handle = createEventHandler({ bus, logger, deliver, parallelSends: deps.parallelSends ?? 8 });

  return {
    http,
    async start() {
      if (consumer) return;
      stopping = new AbortController();
      consumer = await bus.consume({
        groupId: deps.groupId ?? 'notification-service',
        topics: [TOPICS.certified, TOPICS.notify, ...(deps.notifyOnRevoke ? [TOPICS.revoked] : [])],
        handle,
        concurrency: deps.concurrency ?? 4,
        maxBatchSize: deps.batchSize ?? 50,
      });
    },
    async stop() {
      stopping.abort();
      await consumer?.stop();
      consumer = undefined;
      await http.close();
    },
  };
};

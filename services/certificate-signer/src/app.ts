import { TOPICS } from '@divoc/contracts';
import type { CredentialConfig, SigningKey } from '@divoc/credentials';
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
import { createCertifyHandler } from './handle-certify.js';
import { createSignerMetrics } from './metrics.js';

export interface CertificateSignerDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: Registry;
  authenticator: Authenticator;
  /** The signing key (rotated by restarting with a new one; old keys keep verifying elsewhere). */
  key: () => SigningKey;
  /** Issuer settings and the current ICD / VACCINE_ICD values (hot-reloaded). */
  config: () => CredentialConfig;
  /** Consumer group (default `certificate-signer`). */
  groupId?: string;
  /** Partitions signed at the same time (default 4). */
  concurrency?: number;
  /** Most certificates signed and stored per transaction (default 500). */
  batchSize?: number;
  /** The URL of status list `listId` (CERTIFICATE_STATUS_BASE_URL + id). */
  statusListUrl: (listId: number) => string;
  /** CERTIFICATE_UPDATE_LIMIT (default 100). */
  updateLimit?: number;
}

export interface CertificateSigner {
  http: HttpApp;
  /** Starts consuming `certify`. */
  start(): Promise<void>;
  /** Stops consuming after the batch in flight, then closes the HTTP server. */
  stop(): Promise<void>;
}

export const createCertificateSigner = async (deps: CertificateSignerDeps): Promise<CertificateSigner> => {
  const { db, bus, logger } = deps;
  let consumer: Consumer | undefined;
  const http = await createHttpApp({
    service: 'certificate-signer',
    title: 'DIVOC certificate signer',
    description: 'Consumes certify events; health and metrics only.',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    readiness: { database: () => db.health(), bus: () => bus.health() },
  });
  const handle = createCertifyHandler({
    db,
    bus,
    logger,
    metrics: createSignerMetrics(deps.metrics),
    key: deps.key,
    config: deps.config,
    statusListUrl: deps.statusListUrl,
    updateLimit: deps.updateLimit ?? 100,
  });
  return {
    http,
    async start() {
      consumer = await bus.consume({
        groupId: deps.groupId ?? 'certificate-signer',
        topics: [TOPICS.certify],
        handle,
        concurrency: deps.concurrency ?? 4,
        maxBatchSize: deps.batchSize ?? 500,
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = undefined;
      await http.close();
    },
  };
};

import { TOPICS } from '@divoc/contracts';
import {
  type Authenticator,
  type Consumer,
  createHttpApp,
  type Database,
  type EventBus,
  type HttpApp,
  type Logger,
  type RecipientDirectory,
  type Registry,
} from '@divoc/platform';
import { createAckHandler } from './handle-acks.js';
import { createProvisioningHandler } from './recipients/handle-certified.js';

export interface CertificateProcessorDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: Registry;
  authenticator: Authenticator;
  groupId?: string;
  /** Recipient provisioning (optional): a Keycloak account per new beneficiary, after issuance. */
  recipients?: RecipientDirectory | undefined;
}

export interface CertificateProcessor {
  http: HttpApp;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const createCertificateProcessor = async (deps: CertificateProcessorDeps): Promise<CertificateProcessor> => {
  const { db, bus, logger } = deps;
  const consumers: Consumer[] = [];
  const http = await createHttpApp({
    service: 'certificate-processor',
    title: 'DIVOC certificate processor',
    description:
      'Keeps the request ledger from certify_ack (and, optionally, provisions recipient accounts); health and metrics only.',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    readiness: { database: () => db.health(), bus: () => bus.health() },
  });
  return {
    http,
    async start() {
      consumers.push(
        await bus.consume({
          groupId: deps.groupId ?? 'certificate-processor',
          topics: [TOPICS.certifyAck],
          handle: createAckHandler({ db }),
        }),
      );
      if (deps.recipients !== undefined) {
        // A group of its own: a slow or unavailable Keycloak delays accounts, never the request ledger.
        consumers.push(
          await bus.consume({
            groupId: `${deps.groupId ?? 'certificate-processor'}.recipients`,
            topics: [TOPICS.certified],
            handle: createProvisioningHandler({ directory: deps.recipients, logger }),
          }),
        );
      }
    },
    async stop() {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      await http.close();
    },
  };
};

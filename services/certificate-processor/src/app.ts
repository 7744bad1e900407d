import { TOPICS } from '@divoc/contracts';
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
import { createAckHandler } from './handle-acks.js';

export interface CertificateProcessorDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: Registry;
  authenticator: Authenticator;
  groupId?: string;
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
    description: 'Keeps the request ledger from certify_ack; health and metrics only.',
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
    },
    async stop() {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      await http.close();
    },
  };
};

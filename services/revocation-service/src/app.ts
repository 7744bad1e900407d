import { TOPICS } from '@divoc/contracts';
import type { SigningKey, TrustedKey } from '@divoc/credentials';
import {
  type Authenticator,
  type Cache,
  type Consumer,
  createHttpApp,
  type Database,
  type EventBus,
  type HttpApp,
  type Logger,
  type Registry,
} from '@divoc/platform';
import { createOutboxRelay } from '@divoc/store';
import { createRevocationHandler } from './handle-revocations.js';
import { registerRevokedCheckRoute } from './routes/revoked-check.js';
import { registerStatusListRoutes } from './routes/status-lists.js';
import { createStatusPublisher, type StatusPublisher } from './status-publisher.js';

export interface RevocationServiceDeps {
  db: Database;
  bus: EventBus;
  cache: Cache;
  authenticator: Authenticator;
  logger: Logger;
  metrics: Registry;
  issuer: string;
  /** Signs the status list credentials (the issuer's key). */
  key: () => SigningKey;
  /** The keys whose certificates verify in the revocation check. */
  trustedKeys: () => readonly TrustedKey[];
  /** The public URL of status list `listId`. */
  statusListUrl: (listId: number) => string;
  /** How often changed lists are republished (default 1 s). */
  publishIntervalMs?: number;
  groupId?: string;
}

export interface RevocationService {
  http: HttpApp;
  publisher: StatusPublisher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const createRevocationService = async (deps: RevocationServiceDeps): Promise<RevocationService> => {
  const { db, bus, logger } = deps;
  let consumer: Consumer | undefined;
  const relay = createOutboxRelay({ db, bus, logger });
  const http = await createHttpApp({
    service: 'revocation-service',
    title: 'DIVOC revocation service',
    description: 'Signed status lists for offline verifiers and the DIVOC-compatible revocation check.',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    readiness: { database: () => db.health(), bus: () => bus.health() },
  });
  registerStatusListRoutes(http, { db });
  registerRevokedCheckRoute(http, { db, cache: deps.cache, logger, trustedKeys: deps.trustedKeys });
  let publisher: StatusPublisher = createStatusPublisher({
    db,
    logger,
    key: deps.key,
    issuer: deps.issuer,
    listUrl: deps.statusListUrl,
    intervalMs: 0,
  });
  return {
    http,
    get publisher() {
      return publisher;
    },
    async start() {
      publisher = createStatusPublisher({
        db,
        logger,
        key: deps.key,
        issuer: deps.issuer,
        listUrl: deps.statusListUrl,
        intervalMs: deps.publishIntervalMs ?? 1000,
      });
      consumer = await bus.consume({
        groupId: deps.groupId ?? 'revocation-service',
        topics: [TOPICS.revokeCert],
        handle: createRevocationHandler({ db, relay, logger }),
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = undefined;
      await publisher.stop();
      await relay.stop();
      await http.close();
    },
  };
};

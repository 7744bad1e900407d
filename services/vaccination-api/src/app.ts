import type { VaccineIcdConfig } from '@divoc/contracts';
import {
  type Authenticator,
  createHttpApp,
  type Database,
  type EventBus,
  type HttpApp,
  type Logger,
  type Registry,
} from '@divoc/platform';
import { createOutboxRelay } from '@divoc/store';
import { createAcceptor, createEventPublisher } from './accept.js';
import { type BulkSettings, type BulkWorker, createBulkWorker } from './bulk/worker.js';
import { createGroupCommitter } from './group-commit.js';
import { registerBulkRoutes } from './routes/bulk.js';
import { registerCertifyRoutes } from './routes/certify.js';
import { registerPingRoute } from './routes/ping.js';
import { registerRequestRoutes } from './routes/requests.js';
import { registerRevokeRoute } from './routes/revoke.js';
import { registerUpdateRoutes } from './routes/update.js';

export type { BulkSettings, BulkWorker } from './bulk/worker.js';

export interface VaccinationApiDeps {
  db: Database;
  bus: EventBus;
  authenticator: Authenticator;
  logger: Logger;
  metrics: Registry;
  /** The current VACCINE_ICD value (hot-reloaded from etcd). */
  vaccines: () => VaccineIcdConfig;
  /** CERTIFICATE_UPDATE_LIMIT: updates allowed per dose (default 100). */
  updateLimit?: number;
  /** How often the outbox is swept for events a crashed instance left behind (default 5 s). */
  outboxSweepIntervalMs?: number;
  /** Bulk CSV uploads: size limit, retention of failed rows' cells, chunking (defaults in BulkSettings). */
  bulk?: BulkSettings;
}

export interface VaccinationApi {
  http: HttpApp;
  /** The background worker that processes bulk CSV uploads (resumes unfinished ones at start). */
  bulk: BulkWorker;
  stop(): Promise<void>;
}

/** Wires the gateway from its ports; the composition root (main.ts, `pnpm start`, tests) chooses the adapters. */
export const createVaccinationApi = async (deps: VaccinationApiDeps): Promise<VaccinationApi> => {
  const { db, bus, logger } = deps;
  const relay = createOutboxRelay({ db, bus, logger, sweepIntervalMs: deps.outboxSweepIntervalMs ?? 5000 });
  const http = await createHttpApp({
    service: 'vaccination-api',
    title: 'DIVOC vaccination API',
    description: 'Certify, update and revoke vaccination and test certificates (DIVOC-compatible).',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    readiness: { database: () => db.health(), bus: () => bus.health() },
    // A batch of 1,000 DDCC requests is about 1.5 MB of JSON.
    bodyLimit: 4 * 1024 * 1024,
  });
  registerPingRoute(http);
  const acceptor = createAcceptor({ db, relay, logger });
  registerCertifyRoutes(http, { acceptor, vaccines: deps.vaccines });
  registerUpdateRoutes(http, { acceptor, db, updateLimit: deps.updateLimit ?? 100 });
  registerRevokeRoute(http, { db, publisher: createEventPublisher({ db, relay, logger }) });
  registerRequestRoutes(http, { db });
  // Bulk rows go through a committer of their own (one transaction at a time), so a large upload
  // never holds more than one pool connection and never delays the API's own commits.
  const bulk = createBulkWorker({
    db,
    committer: createGroupCommitter({ db, relay, logger, concurrency: 1 }),
    logger,
    settings: deps.bulk,
  });
  await registerBulkRoutes(http, { db, worker: bulk, maxBytes: deps.bulk?.maxBytes ?? 50 * 1024 * 1024 });
  return {
    http,
    bulk,
    async stop() {
      // The chunk in progress is committed and the upload handed back before the relay stops.
      await bulk.stop();
      await http.close();
      await relay.stop();
    },
  };
};

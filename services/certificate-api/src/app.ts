import { TOPICS } from '@divoc/contracts';
import type { TrustedKey } from '@divoc/credentials';
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
import { createArtifacts, type PdfRenderer } from './artifacts.js';
import type { TravelExports } from './exports/travel-exports.js';
import { createInvalidationHandler } from './invalidate.js';
import { registerBeneficiaryRoutes } from './routes/beneficiaries.js';
import { registerDownloadRoutes } from './routes/downloads.js';
import { registerExportRoutes } from './routes/exports.js';
import { registerVerifyRoutes } from './routes/verify.js';

export type { PdfRenderer } from './artifacts.js';
export { loadTravelExportKeys, type TravelExportKeys } from './exports/keys.js';
export { createTravelExports, type TravelExportSettings, type TravelExports } from './exports/travel-exports.js';
export { createPdfRenderer } from './renderer.js';

export interface CertificateApiDeps {
  db: Database;
  bus: EventBus;
  cache: Cache;
  authenticator: Authenticator;
  logger: Logger;
  metrics: Registry;
  renderer: PdfRenderer;
  issuer: string;
  /** The keys whose certificates verify (current and rotated-out). */
  trustedKeys: () => readonly TrustedKey[];
  /** EU-DCC, SMART Health Card and FHIR exports. */
  exports: TravelExports;
  groupId?: string;
}

export interface CertificateApi {
  http: HttpApp;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const createCertificateApi = async (deps: CertificateApiDeps): Promise<CertificateApi> => {
  const { db, bus, cache, logger } = deps;
  let consumer: Consumer | undefined;
  const http = await createHttpApp({
    service: 'certificate-api',
    title: 'DIVOC certificate API',
    description:
      'Certificate downloads (PDF, QR), travel exports (EU-DCC, SMART Health Card, FHIR), print-desk search, verification and the issuer keys.',
    logger,
    metrics: deps.metrics,
    authenticator: deps.authenticator,
    // Not the cache: the service works (renders every time) without it.
    readiness: { database: () => db.health(), bus: () => bus.health() },
  });
  const artifacts = createArtifacts({ cache, renderer: deps.renderer, logger });
  registerDownloadRoutes(http, { db, artifacts, renderer: deps.renderer });
  registerExportRoutes(http, { db, renderer: deps.renderer, exports: deps.exports });
  registerBeneficiaryRoutes(http, { db });
  registerVerifyRoutes(http, { db, trustedKeys: deps.trustedKeys, issuer: deps.issuer, cache, logger });
  return {
    http,
    async start() {
      consumer = await bus.consume({
        groupId: deps.groupId ?? 'certificate-api',
        topics: [TOPICS.certified, TOPICS.revoked],
        handle: createInvalidationHandler({ artifacts, logger }),
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = undefined;
      await http.close();
    },
  };
};

/**
 * Who may call what (DESIGN §9), for every endpoint of every service, in one table. Each service's
 * HTTP bootstrap refuses to start if it registers a route that is not listed here, and the
 * authorization test walks this table.
 */
export const ROLES = ['facility-staff', 'facility-admin', 'facility-print-staff', 'api', 'recipient', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Access =
  /** Anyone, no token (health, metrics, docs, public verification endpoints). */
  | { public: true }
  /**
   * A valid token with at least one of `roles`. `ownerOnly` roles may only reach resources whose
   * mobile number matches the token's (a citizen sees only their own certificates).
   */
  | { roles: readonly Role[]; ownerOnly?: readonly Role[] };

export const SERVICES = [
  'vaccination-api',
  'certificate-signer',
  'certificate-processor',
  'certificate-api',
  'revocation-service',
  'notification-service',
] as const;
export type ServiceName = (typeof SERVICES)[number];

const PUBLIC: Access = { public: true };

/** Downloads: a citizen their own certificates, print desks and service accounts any. */
const CERTIFICATE_READERS: Access = { roles: ['recipient', 'facility-print-staff', 'api'], ownerOnly: ['recipient'] };

/** The operational endpoints every service has (and everything under /docs, the OpenAPI UI). */
export const OPERATIONAL_ROUTES: Record<string, Access> = {
  'GET /health/live': PUBLIC,
  'GET /health/ready': PUBLIC,
  'GET /metrics': PUBLIC,
};

const isDocs = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

/** `"METHOD /path"` → access, per service. Paths use Fastify's `:param` syntax. */
export const ACCESS: Record<ServiceName, Record<string, Access>> = {
  'vaccination-api': {
    'GET /divoc/api/v1/ping': PUBLIC,
    'POST /divoc/api/v1/certify': { roles: ['facility-staff'] },
    'POST /divoc/api/v3/certify': { roles: ['facility-staff'] },
    'POST /divoc/api/v1/test/certify': { roles: ['facility-staff'] },
    'GET /divoc/api/v1/requests/:requestId': { roles: ['facility-staff', 'facility-admin', 'api'] },
    'PUT /divoc/api/v1/certificate': { roles: ['facility-staff'] },
    'PUT /divoc/api/v3/certificate': { roles: ['facility-staff'] },
    'DELETE /divoc/api/v1/certificates/:preEnrollmentCode': { roles: ['facility-staff'] },
    // Bulk CSV uploads (DIVOC: facility-admin); an admin sees only their own uploads.
    'POST /divoc/api/v1/bulkCertify': { roles: ['facility-admin'] },
    'POST /divoc/api/v1/test/bulkCertify': { roles: ['facility-admin'] },
    'GET /divoc/api/v1/certify/uploads': { roles: ['facility-admin'] },
    'GET /divoc/api/v1/certify/uploads/:uploadId/errors': { roles: ['facility-admin'] },
    'GET /divoc/api/v1/test/certify/uploads': { roles: ['facility-admin'] },
    'GET /divoc/api/v1/test/certify/uploads/:uploadId/errors': { roles: ['facility-admin'] },
  },
  'certificate-signer': {},
  'certificate-processor': {},
  'certificate-api': {
    'GET /certificate/api/certificatePDF/:preEnrollmentCode': CERTIFICATE_READERS,
    'HEAD /certificate/api/certificatePDF/:preEnrollmentCode': CERTIFICATE_READERS,
    'GET /certificate/api/certificateQRCode/:preEnrollmentCode': CERTIFICATE_READERS,
    'GET /certificate/api/certificatePDF': CERTIFICATE_READERS,
    'GET /certificate/api/test/certificatePDF/:preEnrollmentCode': CERTIFICATE_READERS,
    'POST /certificate/api/eu-certificate': CERTIFICATE_READERS,
    'GET /certificate/api/shc-certificate': CERTIFICATE_READERS,
    'GET /certificate/api/fhir-certificate': CERTIFICATE_READERS,
    'GET /certificate/api/beneficiaries': { roles: ['facility-print-staff', 'api'] },
    'POST /certificate/api/verify': PUBLIC,
    'GET /.well-known/did.json': PUBLIC,
    'GET /.well-known/jwks.json': PUBLIC,
  },
  'revocation-service': {
    // DIVOC's path: the ingress routes exactly this path under /divoc/api to revocation-service.
    'POST /divoc/api/v1/certificate/revoked': PUBLIC,
    'GET /status-lists/:listId': PUBLIC,
  },
  'notification-service': {
    // Templates only (no free text), for service accounts: not DIVOC's open relay (decision 0012).
    'POST /divoc/notification-service/v1/notification': { roles: ['api'] },
  },
};

/** The access rule of a route, or undefined when the route is not declared. */
export const accessFor = (service: ServiceName, method: string, url: string): Access | undefined =>
  ACCESS[service][`${method} ${url}`] ?? OPERATIONAL_ROUTES[`${method} ${url}`] ?? (isDocs(url) ? PUBLIC : undefined);

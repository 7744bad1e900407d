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
  },
  'certificate-signer': {},
  'certificate-processor': {},
  'certificate-api': {},
  'revocation-service': {},
  'notification-service': {},
};

/** The access rule of a route, or undefined when the route is not declared. */
export const accessFor = (service: ServiceName, method: string, url: string): Access | undefined =>
  ACCESS[service][`${method} ${url}`] ?? OPERATIONAL_ROUTES[`${method} ${url}`] ?? (isDocs(url) ? PUBLIC : undefined);

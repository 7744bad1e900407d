import { type Access, accessFor, type ServiceName } from '@divoc/contracts';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifyTypeProvider, RawServerBase } from 'fastify';
import type { Authenticator } from '../auth/jwt.js';
import { AuthenticationError, type Principal } from '../auth/principal.js';
import { forbidden, HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every route that is not public; the access rule says what it may do. */
    principal?: Principal;
    access?: Access;
  }
}

/** The access rule of a route; a route that declares none stops the service from starting. */
const ruleOf = (service: ServiceName, method: string, url: string): Access => {
  const rule = accessFor(service, method, url) ?? (method === 'HEAD' ? accessFor(service, 'GET', url) : undefined);
  if (rule === undefined) {
    throw new Error(
      `${service}: route "${method} ${url}" declares no access rule; add it to ACCESS in @divoc/contracts`,
    );
  }
  return rule;
};

// The hooks only read route metadata, so any server, logger and type provider will do.
type AnyFastify = FastifyInstance<RawServerBase, never, never, FastifyBaseLogger, FastifyTypeProvider>;

/**
 * Authentication and role checks for every route, from the access table in @divoc/contracts
 * (DESIGN §9): public, or a valid token carrying one of the route's roles (401 without a valid
 * token, 403 with the wrong roles). Ownership (`ownerOnly`) is checked by the handler, which knows
 * the resource.
 */
export const registerAccessControl = (app: AnyFastify, service: ServiceName, authenticator: Authenticator): void => {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('access', undefined);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const rules = methods.map((method) => ruleOf(service, method, route.url));
    const rule = rules[0] as Access;
    const check = async (request: FastifyRequest) => {
      request.access = rule;
      if ('public' in rule) return;
      try {
        request.principal = await authenticator.authenticate(request.headers.authorization);
      } catch (error) {
        if (error instanceof AuthenticationError) throw new HttpError(401, error.code, error.message);
        throw error;
      }
      const { roles } = request.principal;
      if (!rule.roles.some((role) => roles.has(role))) {
        throw forbidden(`this needs one of the roles: ${rule.roles.join(', ')}`);
      }
    };
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])];
  });
};

/** True when the principal may only act on resources that belong to its own mobile number. */
export const isOwnerOnly = (request: FastifyRequest): boolean => {
  const { access, principal } = request;
  if (access === undefined || 'public' in access || principal === undefined) return false;
  const unrestricted = access.roles.filter((role) => !(access.ownerOnly ?? []).includes(role));
  return !unrestricted.some((role) => principal.roles.has(role));
};

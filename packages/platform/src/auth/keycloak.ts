import { createRemoteJWKSet } from 'jose';
import { type Authenticator, createJwtAuthenticator } from './jwt.js';

export interface KeycloakAuthOptions {
  /** Base URL, e.g. http://keycloak:8080 (no trailing slash). */
  url: string;
  realm: string;
  rolesClient: string;
  allowedClients: readonly string[];
  clockToleranceSeconds?: number;
}

/**
 * Keycloak-issued tokens, verified with `jose` against the realm's JWKS — not keycloak-connect,
 * deprecated upstream and bound to Express (docs/decisions/0009). The key set is cached and fetched
 * again when a token names a key id it does not know (realm key rotation), at most every 5 s.
 */
export const createKeycloakAuthenticator = ({ url, realm, ...rest }: KeycloakAuthOptions): Authenticator => {
  const issuer = `${url.replace(/\/$/, '')}/realms/${realm}`;
  const keys = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`), {
    cooldownDuration: 5_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5_000,
  });
  return createJwtAuthenticator({ keys, issuer, ...rest });
};

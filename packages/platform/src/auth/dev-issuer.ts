import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { type Authenticator, createJwtAuthenticator } from './jwt.js';

/** The embedded mode's stand-in for Keycloak: same token shape, a local signing key. */
export const DEV_ISSUER = 'urn:divoc:dev-issuer';
export const DEV_CLIENT = 'divoc-dev';

export interface DevTokenRequest {
  roles: readonly string[];
  subject?: string;
  username?: string;
  mobile?: string;
  /** Lifetime in seconds (default 3600). */
  ttlSeconds?: number;
  /** For tests: the client that asked for the token, the client holding the roles, another issuer. */
  clientId?: string;
  rolesClient?: string;
  issuer?: string;
}

export interface DevIssuer {
  issue(request: DevTokenRequest): Promise<string>;
  authenticator(options: { rolesClient: string }): Authenticator;
}

const loadOrCreateKey = async (directory: string | undefined): Promise<JWK> => {
  const path = directory === undefined ? undefined : join(directory, 'dev-issuer.jwk.json');
  if (path !== undefined && existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `dev-${Date.now().toString(36)}`, alg: 'ES256' };
  if (path !== undefined && directory !== undefined) {
    mkdirSync(directory, { recursive: true });
    writeFileSync(path, JSON.stringify(jwk), { mode: 0o600 });
  }
  return jwk;
};

/**
 * A dev issuer whose key lives in `directory` (shared by `divoc token` and `pnpm start`), or only in
 * memory when no directory is given (tests). Tokens carry Keycloak's claims: `azp`,
 * `resource_access[client].roles`, `preferred_username`, `mobile_number`.
 */
export const createDevIssuer = async ({ directory }: { directory?: string } = {}): Promise<DevIssuer> => {
  const privateJwk = await loadOrCreateKey(directory);
  const { d: _secret, ...publicJwk } = privateJwk;
  const signingKey = await importJWK(privateJwk, 'ES256');
  const keys = createLocalJWKSet({ keys: [publicJwk] });
  return {
    async issue({
      roles,
      subject,
      username,
      mobile,
      ttlSeconds = 3600,
      clientId = DEV_CLIENT,
      rolesClient = 'divoc',
      issuer = DEV_ISSUER,
    }) {
      const name = username ?? (mobile ? mobile : 'dev-user');
      return new SignJWT({
        azp: clientId,
        preferred_username: name,
        resource_access: { [rolesClient]: { roles: [...roles] } },
        ...(mobile ? { mobile_number: mobile } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid as string, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(subject ?? `dev:${name}`)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(signingKey);
    },
    authenticator: ({ rolesClient }) =>
      createJwtAuthenticator({ keys, issuer: DEV_ISSUER, rolesClient, allowedClients: [DEV_CLIENT] }),
  };
};

import { mobileKey } from '@divoc/contracts';
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AuthenticationError, type Principal } from './principal.js';

export interface Authenticator {
  /** The principal behind an `Authorization` header; throws `AuthenticationError` (401). */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export interface JwtAuthenticatorOptions {
  /** Resolves the verification key for a token (a remote JWKS, refetched on an unknown `kid`). */
  keys: JWTVerifyGetKey;
  issuer: string;
  /** The client whose roles count (`resource_access[rolesClient].roles`). */
  rolesClient: string;
  /** Clients (`azp`) whose tokens this API accepts; anything else is a token for another application. */
  allowedClients: readonly string[];
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat` (default 30). */
  clockToleranceSeconds?: number;
  /** Verified tokens are remembered until they expire (default 10,000) so hot paths skip the signature check. */
  cacheSize?: number;
}

interface KeycloakClaims extends JWTPayload {
  azp?: string;
  preferred_username?: string;
  mobile_number?: string;
  resource_access?: Record<string, { roles?: string[] }>;
}

const describe = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" claim is not accepted`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed by an unknown key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof errors.JOSEError) return 'the token is not a valid JWT';
  return 'the token cannot be verified right now';
};

/** Verifies bearer JWTs: signature (JWKS), issuer, expiry with small skew, authorised client; reads roles from one client. */
export const createJwtAuthenticator = ({
  keys,
  issuer,
  rolesClient,
  allowedClients,
  clockToleranceSeconds = 30,
  cacheSize = 10_000,
}: JwtAuthenticatorOptions): Authenticator => {
  const verified = new Map<string, Principal>();
  const clients = new Set(allowedClients);

  const verify = async (token: string): Promise<Principal> => {
    let claims: KeycloakClaims;
    try {
      ({ payload: claims } = await jwtVerify<KeycloakClaims>(token, keys, {
        issuer,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw new AuthenticationError(describe(error));
    }
    const clientId = claims.azp ?? '';
    if (!clients.has(clientId))
      throw new AuthenticationError(`tokens issued to client "${clientId}" are not accepted by this API`);
    return {
      subject: claims.sub as string,
      actor: claims.preferred_username ?? `client:${clientId}`,
      clientId,
      roles: new Set(claims.resource_access?.[rolesClient]?.roles ?? []),
      mobile: claims.mobile_number ? mobileKey(claims.mobile_number) : undefined,
      expiresAt: claims.exp as number,
    };
  };

  return {
    async authenticate(authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match) throw new AuthenticationError('send "Authorization: Bearer <token>"');
      const token = match[1] as string;
      const known = verified.get(token);
      if (known !== undefined) {
        if (known.expiresAt + clockToleranceSeconds > Date.now() / 1000) return known;
        verified.delete(token);
      }
      const principal = await verify(token);
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, principal);
      return principal;
    },
  };
};

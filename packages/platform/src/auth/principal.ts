/** Who is calling, as far as authorization cares. */
export interface Principal {
  /** Token subject (a Keycloak user or service-account id). */
  subject: string;
  /** Human-readable actor for ledgers and audit: the username, or the client of a service account. */
  actor: string;
  /** The client the token was issued to (`azp`). */
  clientId: string;
  /** Roles granted by the configured roles client only — never by another client. */
  roles: ReadonlySet<string>;
  /** The citizen's mobile number (`mobile_number` claim), as `mobileKey` (last 10 digits). */
  mobile?: string | undefined;
  /** Seconds since the epoch when the token expires. */
  expiresAt: number;
}

/** 401: no token, or one we cannot trust (bad signature, expired, other issuer, not for this API). */
export class AuthenticationError extends Error {
  readonly statusCode = 401;
  readonly code = 'UNAUTHENTICATED';
}

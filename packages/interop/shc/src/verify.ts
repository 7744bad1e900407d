import { inflateRawSync } from 'node:zlib';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { ShcError } from './errors.js';
import { normaliseIssuer, type ShcPayload } from './jws.js';
import { decodeShcQr } from './qr.js';

/** A QR code holds under 3 KB; the inflated payload is bounded to stop a crafted stream from exploding. */
export const MAX_INFLATED_PAYLOAD = 256 * 1024;

export interface VerifyShcOptions {
  /** The issuer's JWKS (`<iss>/.well-known/jwks.json`). */
  jwks: JSONWebKeySet;
  /** When given, `iss` must equal it (trailing slashes ignored). */
  issuer?: string | undefined;
  /** Validation clock for `exp` (and `nbf` with 5 minutes of skew); default now. */
  now?: Date | undefined;
}

export interface VerifiedShc {
  header: { alg: string; zip: string; kid: string };
  payload: ShcPayload;
}

/**
 * Verifies a compact JWS SMART Health Card against a JWKS (key by `kid`, ES256 only), inflates the raw
 * DEFLATE payload and parses it. Throws `ShcError`.
 */
export const verifyShc = async (jws: string, options: VerifyShcOptions): Promise<VerifiedShc> => {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (error) {
    throw new ShcError('JWS', 'not a compact JWS', { cause: error });
  }
  if (header.alg !== 'ES256' || header.zip !== 'DEF' || typeof header.kid !== 'string') {
    throw new ShcError('JWS', 'the JWS header must be {alg: "ES256", zip: "DEF", kid}');
  }
  let compressed: Uint8Array;
  try {
    ({ payload: compressed } = await compactVerify(jws, createLocalJWKSet(options.jwks), { algorithms: ['ES256'] }));
  } catch (error) {
    throw new ShcError(
      'SIGNATURE',
      `the signature does not verify with the issuer's keys: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  let payload: ShcPayload;
  try {
    payload = JSON.parse(inflateRawSync(compressed, { maxOutputLength: MAX_INFLATED_PAYLOAD }).toString('utf8'));
  } catch (error) {
    throw new ShcError('PAYLOAD', 'the payload is not raw-DEFLATEd JSON within the size limit', { cause: error });
  }
  if (options.issuer !== undefined && payload.iss !== normaliseIssuer(options.issuer)) {
    throw new ShcError('CLAIMS', `issued by "${payload.iss}", not by "${options.issuer}"`);
  }
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (typeof payload.exp === 'number' && payload.exp < now) throw new ShcError('CLAIMS', 'the card has expired');
  if (typeof payload.nbf === 'number' && payload.nbf > now + 300)
    throw new ShcError('CLAIMS', 'the card is not valid yet');
  if (!payload.vc?.type?.includes('https://smarthealth.cards#health-card')) {
    throw new ShcError('CLAIMS', 'vc.type does not contain https://smarthealth.cards#health-card');
  }
  return { header: { alg: header.alg, zip: header.zip, kid: header.kid }, payload };
};

/** `shc:/…` QR content → verified payload. */
export const verifyShcQr = (content: string, options: VerifyShcOptions): Promise<VerifiedShc> =>
  verifyShc(decodeShcQr(content), options);

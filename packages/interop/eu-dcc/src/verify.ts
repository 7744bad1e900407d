import { type KeyObject, X509Certificate } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { type Base45Error, base45Decode } from './base45.js';
import { type CborError, type CborValue, cborToJson, decodeCbor } from './cbor.js';
import {
  type CoseAlgorithm,
  type CoseFormatError,
  messageAlgorithm,
  messageKid,
  parseSign1,
  type Sign1Message,
  verifySign1,
} from './cose.js';
import { Hc1Error } from './errors.js';
import {
  CLAIM_EXP,
  CLAIM_HCERT,
  CLAIM_IAT,
  CLAIM_ISS,
  dscKid,
  HC1_PREFIX,
  HCERT_DCC,
  type HcertClaims,
} from './hcert.js';
import { type DccPayload, type DccType, dccType } from './payload.js';
import { schemaIssues } from './schema.js';

/** Extended key usage OIDs a DSC may carry to limit the certificate types it signs (what we issue). */
export const DCC_KEY_USAGE: Record<DccType, string> = {
  t: '1.3.6.1.4.1.1847.2021.1.1',
  v: '1.3.6.1.4.1.1847.2021.1.2',
  r: '1.3.6.1.4.1.1847.2021.1.3',
};

/**
 * The OIDs accepted when verifying: the current ones and the early `1.3.6.1.4.1.0.1847.2021.1.x` form,
 * which DSCs of the first months (and the dgc-testdata vectors) carry.
 */
const ACCEPTED_KEY_USAGE: Record<DccType, readonly string[]> = {
  t: [DCC_KEY_USAGE.t, '1.3.6.1.4.1.0.1847.2021.1.1'],
  v: [DCC_KEY_USAGE.v, '1.3.6.1.4.1.0.1847.2021.1.2'],
  r: [DCC_KEY_USAGE.r, '1.3.6.1.4.1.0.1847.2021.1.3'],
};

/** A Document Signer Certificate a verifier trusts (e.g. from the gateway's DSC list). */
export interface TrustedDsc {
  certificate: X509Certificate;
  publicKey: KeyObject;
  kid: Uint8Array;
  /** The DCC types its extended key usage allows; undefined when it carries none of the DCC OIDs (all allowed). */
  allowedTypes: ReadonlySet<DccType> | undefined;
}

/** A trusted DSC from PEM, DER, base64 DER (as dgc-testdata and the gateway ship it), or a parsed certificate. */
export const trustDsc = (certificate: string | Uint8Array | X509Certificate): TrustedDsc => {
  let parsed: X509Certificate;
  if (certificate instanceof X509Certificate) parsed = certificate;
  else if (typeof certificate === 'string' && !certificate.includes('-----BEGIN')) {
    parsed = new X509Certificate(Buffer.from(certificate.replace(/\s+/g, ''), 'base64'));
  } else parsed = new X509Certificate(certificate);
  // Node names the *extended* key usage list `keyUsage` (undefined when the extension is absent).
  const usages = (parsed as X509Certificate & { keyUsage?: string[] }).keyUsage ?? [];
  const types = (Object.entries(ACCEPTED_KEY_USAGE) as [DccType, readonly string[]][])
    .filter(([, oids]) => oids.some((oid) => usages.includes(oid)))
    .map(([type]) => type);
  return {
    certificate: parsed,
    publicKey: parsed.publicKey,
    kid: dscKid(parsed.raw),
    allowedTypes: types.length === 0 ? undefined : new Set(types),
  };
};

export const MAX_INFLATED_BYTES = 64 * 1024;

/** `HC1:` removed (a scanner may add whitespace at the ends). */
export const unprefixHc1 = (text: string): string => {
  const trimmed = text.trim();
  if (!trimmed.startsWith(HC1_PREFIX)) throw new Hc1Error('PREFIX', 'the text does not start with "HC1:"');
  return trimmed.slice(HC1_PREFIX.length);
};

export const decodeHc1Base45 = (base45: string): Uint8Array => {
  try {
    return base45Decode(base45);
  } catch (error) {
    throw new Hc1Error('BASE45', `not Base45: ${(error as Base45Error).message}`, { cause: error });
  }
};

/** zlib-inflates the COSE bytes, refusing more than 64 KiB (a QR code holds under 3 KB). */
export const inflateHcert = (compressed: Uint8Array): Uint8Array => {
  try {
    return new Uint8Array(inflateSync(compressed, { maxOutputLength: MAX_INFLATED_BYTES }));
  } catch (error) {
    throw new Hc1Error('COMPRESSION', 'not a zlib stream within the size limit', { cause: error });
  }
};

export const parseHcertCose = (bytes: Uint8Array): Sign1Message => {
  try {
    return parseSign1(bytes);
  } catch (error) {
    throw new Hc1Error('COSE', (error as CoseFormatError).message, { cause: error });
  }
};

export interface HcertContent {
  claims: Partial<HcertClaims>;
  payload: DccPayload;
}

const integerClaim = (claims: ReadonlyMap<CborValue, CborValue>, key: number, name: string): number | undefined => {
  const value = claims.get(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new Hc1Error('CWT', `claim ${name} must be an integer NumericDate`);
  }
  return value;
};

/** The CWT claims and the DCC payload of a COSE payload. */
export const readHcertContent = (cosePayload: Uint8Array): HcertContent => {
  let claims: CborValue;
  try {
    claims = decodeCbor(cosePayload);
  } catch (error) {
    throw new Hc1Error('CWT', `the CWT is not CBOR: ${(error as CborError).message}`, { cause: error });
  }
  if (!(claims instanceof Map)) throw new Hc1Error('CWT', 'the CWT claims are not a map');
  const hcert = claims.get(CLAIM_HCERT);
  const dcc = hcert instanceof Map ? hcert.get(HCERT_DCC) : undefined;
  if (!(dcc instanceof Map)) throw new Hc1Error('CWT', 'the CWT has no hcert claim (-260) with a DCC (1)');
  let payload: DccPayload;
  try {
    payload = cborToJson(dcc) as DccPayload;
  } catch (error) {
    throw new Hc1Error('CWT', `the DCC is not JSON data: ${(error as CborError).message}`, { cause: error });
  }
  const iss = claims.get(CLAIM_ISS);
  if (iss !== undefined && typeof iss !== 'string') throw new Hc1Error('CWT', 'claim iss must be text');
  const iat = integerClaim(claims, CLAIM_IAT, 'iat');
  const exp = integerClaim(claims, CLAIM_EXP, 'exp');
  return {
    claims: {
      ...(iss === undefined ? {} : { iss }),
      ...(iat === undefined ? {} : { iat }),
      ...(exp === undefined ? {} : { exp }),
    },
    payload,
  };
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/**
 * Verifies the COSE signature against the trusted DSCs: the kid comes from the protected header (the
 * unprotected one only when the protected header has none), must be 8 bytes, and every DSC with that kid
 * is tried (truncated kids can collide). Returns the DSC that verified.
 */
export const verifyHcertSignature = (
  message: Sign1Message,
  trusted: readonly TrustedDsc[],
): { dsc: TrustedDsc; algorithm: CoseAlgorithm } => {
  const algorithm = messageAlgorithm(message);
  if (algorithm === undefined) {
    throw new Hc1Error(
      'COSE',
      `unsupported or missing algorithm ${String(message.protectedHeader.get(1))}; ES256 (-7) or PS256 (-37) expected`,
    );
  }
  const kid = messageKid(message);
  if (kid === undefined) throw new Hc1Error('KID', 'no key identifier in the COSE headers');
  if (kid.length !== 8) throw new Hc1Error('KID', `the key identifier has ${kid.length} bytes; 8 are required`);
  const candidates = trusted.filter((dsc) => sameBytes(dsc.kid, kid));
  if (candidates.length === 0) {
    throw new Hc1Error('KID_UNKNOWN', `no trusted DSC has kid ${Buffer.from(kid).toString('base64')}`);
  }
  const dsc = candidates.find((candidate) => verifySign1(message, algorithm, candidate.publicKey));
  if (dsc === undefined)
    throw new Hc1Error('SIGNATURE', 'the signature does not verify with any trusted DSC for this kid');
  return { dsc, algorithm };
};

export interface VerifyHc1Options {
  /** The DSCs to trust. */
  trusted: readonly TrustedDsc[];
  /** The validation clock; default now. */
  now?: Date | undefined;
  /** Check the payload against the DCC schema too (default true). */
  validateSchema?: boolean | undefined;
}

export interface VerifiedHcert extends HcertContent {
  type: DccType;
  algorithm: CoseAlgorithm;
  kid: Uint8Array;
  dsc: TrustedDsc;
}

/**
 * Decodes and verifies an `HC1:` string: prefix, Base45, zlib, COSE_Sign1 (tag 18, or 61 + 18), signature
 * by a trusted DSC, `exp`/`iat` at the clock, the DSC's extended key usage against the payload type, and
 * (by default) the DCC schema. Throws `Hc1Error` naming the failed stage.
 */
export const verifyHc1 = (text: string, options: VerifyHc1Options): VerifiedHcert => {
  const message = parseHcertCose(inflateHcert(decodeHc1Base45(unprefixHc1(text))));
  const { dsc, algorithm } = verifyHcertSignature(message, options.trusted);
  const content = readHcertContent(message.payload);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (content.claims.exp === undefined) throw new Hc1Error('CWT', 'the CWT has no exp claim');
  if (content.claims.exp < now) {
    throw new Hc1Error('EXPIRED', `expired at ${new Date(content.claims.exp * 1000).toISOString()}`);
  }
  if (content.claims.iat !== undefined && content.claims.iat > now) {
    throw new Hc1Error('NOT_YET_VALID', `issued in the future (${new Date(content.claims.iat * 1000).toISOString()})`);
  }
  const type = dccType(content.payload);
  if (type === undefined) throw new Hc1Error('SCHEMA', 'the DCC must hold exactly one of v, t and r');
  if (dsc.allowedTypes !== undefined && !dsc.allowedTypes.has(type)) {
    throw new Hc1Error('KEY_USAGE', `the DSC's extended key usage does not allow "${type}" certificates`);
  }
  if (options.validateSchema !== false) {
    const issues = schemaIssues(content.payload);
    if (issues.length > 0) throw new Hc1Error('SCHEMA', `the DCC fails the schema: ${issues.join('; ')}`);
  }
  return { ...content, type, algorithm, kid: messageKid(message) as Uint8Array, dsc };
};

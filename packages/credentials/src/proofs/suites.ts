import { constants, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { CONTEXT_URLS } from '../contexts.js';
import { base58Decode, base58Encode } from '../keys/base58.js';
import type { KeyType, PublicKey, SigningKey } from '../keys/keys.js';
import { signPs256Deterministic } from '../keys/pss.js';
import type { Proof } from '../model.js';

/**
 * A proof suite turns verify data (SHA-256 of the canonical proof options ‖ SHA-256 of the canonical
 * document) into a signature value and back. Canonicalization is shared; only the signature differs.
 */
export interface ProofSuite {
  readonly type: Proof['type'];
  readonly keyType: KeyType;
  /** A context the credential must carry for the proof's terms to be defined (beyond the VC context). */
  readonly requiredContext?: string;
  sign(verifyData: Uint8Array, key: SigningKey): Pick<Proof, 'jws' | 'proofValue'>;
  verify(verifyData: Uint8Array, proof: Proof, key: PublicKey): boolean;
}

// {"alg":"PS256","b64":false,"crit":["b64"]}: a detached JWS over the raw verify data (RFC 7797).
const RSA_JWS_HEADER = Buffer.from(JSON.stringify({ alg: 'PS256', b64: false, crit: ['b64'] })).toString('base64url');
const RSA_PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

const jwsSigningInput = (header: string, verifyData: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from(`${header}.`, 'ascii'), verifyData]);

/** `RsaSignature2018`: DIVOC's default, PS256 detached JWS with `b64:false`, `crit:["b64"]`. */
export const rsaSignature2018: ProofSuite = {
  type: 'RsaSignature2018',
  keyType: 'RSA',
  sign(verifyData, key) {
    const signature = signPs256Deterministic(jwsSigningInput(RSA_JWS_HEADER, verifyData), key.privateKey);
    return { jws: `${RSA_JWS_HEADER}..${signature.toString('base64url')}` };
  },
  verify(verifyData, proof, key) {
    const parts = proof.jws?.split('.');
    if (parts?.length !== 3 || parts[1] !== '') return false;
    const [header, , signature] = parts as [string, string, string];
    let parsed: { alg?: unknown; b64?: unknown; crit?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    if (parsed.alg !== 'PS256' || parsed.b64 !== false || JSON.stringify(parsed.crit) !== '["b64"]') return false;
    return cryptoVerify(
      'sha256',
      jwsSigningInput(header, verifyData),
      { key: key.key, ...RSA_PSS },
      Buffer.from(signature, 'base64url'),
    );
  },
};

/** `Ed25519Signature2020`: multibase base58btc `proofValue`. */
export const ed25519Signature2020: ProofSuite = {
  type: 'Ed25519Signature2020',
  keyType: 'ED25519',
  requiredContext: CONTEXT_URLS.ed25519,
  sign(verifyData, key) {
    return { proofValue: `z${base58Encode(cryptoSign(null, verifyData, key.privateKey))}` };
  },
  verify(verifyData, proof, key) {
    if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) return false;
    let signature: Uint8Array;
    try {
      signature = base58Decode(proof.proofValue.slice(1));
    } catch {
      return false;
    }
    return signature.length === 64 && cryptoVerify(null, verifyData, key.key, signature);
  },
};

export const suiteForKeyType = (type: KeyType): ProofSuite =>
  type === 'RSA' ? rsaSignature2018 : ed25519Signature2020;

export const suiteForProofType = (type: string): ProofSuite | undefined =>
  [rsaSignature2018, ed25519Signature2020].find((suite) => suite.type === type);

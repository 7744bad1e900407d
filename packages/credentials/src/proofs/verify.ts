import type { Canonicalizer } from '../canonical/canonicalizer.js';
import { firstUnpinnedContext } from '../contexts.js';
import { type TrustedKey, UnknownDocumentError, verificationMethodId } from '../document-loader.js';
import { Proof } from '../model.js';
import { suiteForProofType } from './suites.js';
import { createVerifyData } from './verify-data.js';

/** Why a credential is not valid, in terms a verifier can act on. */
export type VerificationFailure = 'malformed' | 'unknown-context' | 'unknown-key' | 'bad-signature' | 'revoked';

export type VerificationResult =
  | { valid: true; issuer: string; verificationMethod: string; keyId: string }
  | { valid: false; reason: VerificationFailure; message: string };

export interface VerifyOptions {
  /** The keys whose signatures are accepted (the current key and any rotated-out keys). */
  trustedKeys: readonly TrustedKey[];
  canonicalizer?: Canonicalizer;
}

const invalid = (reason: VerificationFailure, message: string): VerificationResult => ({
  valid: false,
  reason,
  message,
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** jsonld wraps loader errors (`details.cause`); find ours anywhere in the chain. */
const causeOf = <E extends Error>(error: unknown, type: new (...args: never[]) => E): E | undefined => {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof type) return current;
    const next = current as { cause?: unknown; details?: { cause?: unknown } };
    current = next.details?.cause ?? next.cause;
  }
  return undefined;
};

/** Checks the proof of a signed credential offline, against the trusted keys only. Never throws. */
export const verifyCredential = async (credential: unknown, options: VerifyOptions): Promise<VerificationResult> => {
  if (!isRecord(credential)) return invalid('malformed', 'the credential is not a JSON object');
  const contexts = credential['@context'];
  if (!Array.isArray(contexts) || contexts.some((context) => typeof context !== 'string')) {
    return invalid('malformed', '"@context" must be an array of context URLs');
  }
  const unknown = firstUnpinnedContext(contexts);
  if (unknown !== undefined)
    return invalid('unknown-context', `the context "${unknown}" is not one this verifier trusts`);

  const proof = Proof.safeParse(credential.proof);
  if (!proof.success) return invalid('malformed', 'the credential has no valid "proof"');
  const suite = suiteForProofType(proof.data.type);
  if (suite === undefined) return invalid('malformed', `unsupported proof type "${proof.data.type}"`);
  if (typeof credential.issuer !== 'string') return invalid('malformed', '"issuer" must be a string');

  const key = options.trustedKeys.find(
    (candidate) => verificationMethodId(candidate.controller, candidate.keyId) === proof.data.verificationMethod,
  );
  if (key === undefined) {
    return invalid('unknown-key', `the signing key "${proof.data.verificationMethod}" is not a trusted key`);
  }
  if (key.controller !== credential.issuer || key.type !== suite.keyType) {
    return invalid(
      'unknown-key',
      `the key "${proof.data.verificationMethod}" may not sign for issuer "${credential.issuer}"`,
    );
  }

  const { jws: _jws, proofValue: _value, ...proofOptions } = proof.data;
  let verifyData: Buffer;
  try {
    verifyData = await createVerifyData(credential as { '@context': unknown }, proofOptions, options.canonicalizer);
  } catch (error) {
    const unknownDocument = causeOf(error, UnknownDocumentError);
    if (unknownDocument !== undefined) return invalid('unknown-context', unknownDocument.message);
    return invalid('malformed', `the credential is not valid JSON-LD: ${(error as Error).message}`);
  }
  if (!suite.verify(verifyData, proof.data, key))
    return invalid('bad-signature', 'the signature does not match the credential');
  return {
    valid: true,
    issuer: credential.issuer,
    verificationMethod: proof.data.verificationMethod,
    keyId: key.keyId,
  };
};

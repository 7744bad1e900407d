import type { Canonicalizer } from '../canonical/canonicalizer.js';
import { firstUnpinnedContext } from '../contexts.js';
import { type TrustedKey, UnknownDocumentError, verificationMethodId } from '../document-loader.js';
import { CredentialStatus, Proof } from '../model.js';
import { decodeStatusList, isStatusSet } from '../status/status-list.js';
import { suiteForProofType } from './suites.js';
import { createVerifyData } from './verify-data.js';

/** Why a credential is not valid, in terms a verifier can act on. */
export type VerificationFailure = 'malformed' | 'unknown-context' | 'unknown-key' | 'bad-signature' | 'revoked';

/** Whether revocation was checked: only when the caller supplied the (downloaded) status list. */
export type RevocationCheck = 'not-revoked' | 'not-checked';

export type VerificationResult =
  | { valid: true; issuer: string; verificationMethod: string; keyId: string; revocation: RevocationCheck }
  | { valid: false; reason: VerificationFailure; message: string };

export interface VerifyOptions {
  /** The keys whose signatures are accepted (the current key and any rotated-out keys). */
  trustedKeys: readonly TrustedKey[];
  canonicalizer?: Canonicalizer;
  /**
   * The status list credential published at a URL, as the verifier downloaded it earlier (offline
   * verification). Without it, or when it returns undefined, revocation is reported as not checked.
   */
  statusList?: (url: string) => unknown | Promise<unknown>;
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
  if (!suite.verify(verifyData, proof.data, key)) {
    return invalid('bad-signature', 'the signature does not match the credential');
  }
  const valid = {
    valid: true as const,
    issuer: credential.issuer,
    verificationMethod: proof.data.verificationMethod,
    keyId: key.keyId,
  };
  if (credential.credentialStatus === undefined || options.statusList === undefined)
    return { ...valid, revocation: 'not-checked' };
  return checkStatus(credential.credentialStatus, valid, options);
};

/** Bitstrings of status lists already verified, by list credential object. */
const verifiedLists = new WeakMap<object, Uint8Array>();

const checkStatus = async (
  status: unknown,
  valid: Omit<Extract<VerificationResult, { valid: true }>, 'revocation'>,
  options: VerifyOptions,
): Promise<VerificationResult> => {
  const entry = CredentialStatus.safeParse(status);
  if (!entry.success || entry.data.type !== 'StatusList2021Entry' || entry.data.statusPurpose !== 'revocation') {
    return invalid('malformed', '"credentialStatus" is not a StatusList2021 revocation entry');
  }
  const list = await options.statusList?.(entry.data.statusListCredential);
  if (list === undefined || list === null) return { ...valid, revocation: 'not-checked' };
  let bits = typeof list === 'object' ? verifiedLists.get(list) : undefined;
  if (bits === undefined) {
    const listResult = await verifyCredential(list, { ...options, statusList: undefined });
    const subject = list as { id?: unknown; issuer?: unknown; credentialSubject?: { encodedList?: unknown } };
    if (!listResult.valid || subject.id !== entry.data.statusListCredential || subject.issuer !== valid.issuer) {
      return invalid(
        'malformed',
        `the status list ${entry.data.statusListCredential} is not a valid list of this issuer`,
      );
    }
    try {
      bits = decodeStatusList(String(subject.credentialSubject?.encodedList));
    } catch {
      return invalid('malformed', `the status list ${entry.data.statusListCredential} cannot be decoded`);
    }
    verifiedLists.set(list as object, bits);
  }
  const index = Number(entry.data.statusListIndex);
  if (!Number.isInteger(index) || index < 0 || index >= bits.length * 8) {
    return invalid('malformed', `status index ${entry.data.statusListIndex} is outside the list`);
  }
  if (isStatusSet(bits, index)) return invalid('revoked', 'the issuer has revoked this certificate');
  return { ...valid, revocation: 'not-revoked' };
};

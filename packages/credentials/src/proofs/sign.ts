import type { Canonicalizer } from '../canonical/canonicalizer.js';
import { firstUnpinnedContext } from '../contexts.js';
import { UnknownDocumentError, verificationMethodId } from '../document-loader.js';
import type { SigningKey } from '../keys/keys.js';
import type { Proof } from '../model.js';
import { suiteForKeyType } from './suites.js';
import { createVerifyData, type ProofOptions, w3cDate } from './verify-data.js';

export interface SignOptions {
  key: SigningKey;
  /** The proof's `created` time (default: now); fixed in tests for deterministic output. */
  created?: Date;
  canonicalizer?: Canonicalizer;
}

/**
 * Signs a credential with the suite of the key's type: RsaSignature2018 for RSA keys,
 * Ed25519Signature2020 for Ed25519 keys (whose context is added when missing). The proof names
 * its key as `<issuer>#<keyId>`.
 */
/** Anything signed by this system: certificates and status list credentials. */
export interface SignableDocument {
  '@context': string[];
  issuer: string;
}

export const signCredential = async <T extends SignableDocument>(
  credential: T,
  { key, created = new Date(), canonicalizer }: SignOptions,
): Promise<T & { proof: Proof }> => {
  const suite = suiteForKeyType(key.type);
  const contexts = credential['@context'];
  const unpinned = firstUnpinnedContext(contexts);
  if (unpinned !== undefined) throw new UnknownDocumentError(String(unpinned));
  const document =
    suite.requiredContext === undefined || contexts.includes(suite.requiredContext)
      ? credential
      : { ...credential, '@context': [...contexts, suite.requiredContext] };
  const proofOptions: ProofOptions = {
    type: suite.type,
    created: w3cDate(created),
    verificationMethod: verificationMethodId(credential.issuer, key.keyId),
    proofPurpose: 'assertionMethod',
  };
  const verifyData = await createVerifyData(document, proofOptions, canonicalizer);
  return { ...document, proof: { ...proofOptions, ...suite.sign(verifyData, key) } };
};

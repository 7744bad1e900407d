import { createHash } from 'node:crypto';
import { type Canonicalizer, createCanonicalizer } from '../canonical/canonicalizer.js';
import { createDocumentLoader } from '../document-loader.js';
import type { Proof } from '../model.js';

export type ProofOptions = Omit<Proof, 'jws' | 'proofValue'>;

/** Shared by every signer and verifier in the process: compiled shapes are reused across calls. */
export const defaultCanonicalizer: Canonicalizer = createCanonicalizer(createDocumentLoader());

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * What a linked-data signature signs (jsonld-signatures' `createVerifyData`): the SHA-256 of the
 * canonical proof options, expressed in the document's `@context`, followed by the SHA-256 of the
 * canonical document without its proof.
 */
export const createVerifyData = async (
  document: { '@context': unknown; proof?: unknown },
  proofOptions: ProofOptions,
  canonicalizer: Canonicalizer = defaultCanonicalizer,
): Promise<Buffer> => {
  const { proof: _ignored, ...unsigned } = document;
  const [c14nProof, c14nDocument] = await Promise.all([
    canonicalizer.canonize({ '@context': document['@context'], ...proofOptions }),
    canonicalizer.canonize(unsigned),
  ]);
  return Buffer.concat([sha256(c14nProof), sha256(c14nDocument)]);
};

/** XML Schema dateTime without fractional seconds, as jsonld-signatures writes `created`. */
export const w3cDate = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

import { hash } from 'node:crypto';
import { type Canonicalizer, createCanonicalizer } from '../canonical/canonicalizer.js';
import { createDocumentLoader } from '../document-loader.js';
import type { Proof } from '../model.js';

export type ProofOptions = Omit<Proof, 'jws' | 'proofValue'>;

/** Shared by every signer and verifier in the process: compiled shapes are reused across calls. */
export const defaultCanonicalizer: Canonicalizer = createCanonicalizer(createDocumentLoader());

// crypto.hash returns a Buffer for 'buffer' (its typings only list the text encodings).
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer') as unknown as Buffer;

/**
 * Hashes of canonical proof options, per canonicalizer. Every certificate signed in the same second
 * by the same key has the same proof options (`created` has no fractional seconds), and a batch of
 * verifications mostly does too: canonicalizing them once per second instead of once per credential
 * saves a tenth of the signing work. Keyed by the options' full JSON, so only equal options hit.
 */
const proofHashes = new WeakMap<Canonicalizer, Map<string, Buffer>>();
const MAX_CACHED_PROOF_HASHES = 64;

const proofOptionsHash = (
  context: unknown,
  proofOptions: ProofOptions,
  canonicalizer: Canonicalizer,
): Buffer | Promise<Buffer> => {
  let cache = proofHashes.get(canonicalizer);
  if (cache === undefined) {
    cache = new Map();
    proofHashes.set(canonicalizer, cache);
  }
  const key = JSON.stringify([context, proofOptions]);
  // A hit returns the digest itself, not a promise: awaiting a plain value costs one microtask, not two.
  return cache.get(key) ?? canonicalizeProofOptions(context, proofOptions, canonicalizer, cache, key);
};

const canonicalizeProofOptions = async (
  context: unknown,
  proofOptions: ProofOptions,
  canonicalizer: Canonicalizer,
  cache: Map<string, Buffer>,
  key: string,
): Promise<Buffer> => {
  const digest = sha256(await canonicalizer.canonize({ '@context': context, ...proofOptions }));
  if (cache.size >= MAX_CACHED_PROOF_HASHES) cache.delete(cache.keys().next().value as string);
  cache.set(key, digest);
  return digest;
};

/** The document as signed: without its proof (copied only when it has one). */
const withoutProof = (document: { '@context': unknown; proof?: unknown }): object => {
  if (!('proof' in document)) return document;
  const { proof: _ignored, ...unsigned } = document;
  return unsigned;
};

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
  const proofHash = await proofOptionsHash(document['@context'], proofOptions, canonicalizer);
  const documentHash = sha256(await canonicalizer.canonize(withoutProof(document)));
  return Buffer.concat([proofHash, documentHash], 64);
};

/** XML Schema dateTime without fractional seconds, as jsonld-signatures writes `created`. */
export const w3cDate = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

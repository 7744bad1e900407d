import type { DocumentLoader, RemoteDocument } from 'jsonld';
import { CONTEXT_URLS, pinnedContext } from './contexts.js';
import { ed25519Multibase, type PublicKey } from './keys/keys.js';

/** A key a verifier trusts, together with the issuer (controller) it belongs to. */
export interface TrustedKey extends PublicKey {
  controller: string;
}

export const verificationMethodId = (controller: string, keyId: string): string => `${controller}#${keyId}`;

/** Raised for any URL that is neither a pinned context nor a trusted key: nothing is ever fetched. */
export class UnknownDocumentError extends Error {
  readonly code = 'UNKNOWN_DOCUMENT';
  constructor(readonly url: string) {
    super(`"${url}" is not a pinned context or a trusted key; documents are never fetched from the network`);
  }
}

const remote = (url: string, document: unknown): RemoteDocument => ({
  contextUrl: null,
  documentUrl: url,
  document,
});

/** The verification method document of a trusted key, as a DID document lists it. */
export const verificationMethodDocument = (key: TrustedKey): Record<string, unknown> => {
  const id = verificationMethodId(key.controller, key.keyId);
  return key.type === 'ED25519'
    ? {
        '@context': CONTEXT_URLS.ed25519,
        id,
        type: 'Ed25519VerificationKey2020',
        controller: key.controller,
        publicKeyMultibase: ed25519Multibase(key),
      }
    : {
        id,
        type: 'JsonWebKey2020',
        controller: key.controller,
        publicKeyJwk: { ...key.key.export({ format: 'jwk' }), kid: key.keyId, alg: 'PS256' },
      };
};

/** The issuer's controller document (DID-document shaped), authorising its keys for assertions. */
export const controllerDocument = (controller: string, keys: readonly TrustedKey[]): Record<string, unknown> => {
  const own = keys.filter((key) => key.controller === controller);
  return {
    '@context': ['https://www.w3.org/ns/did/v1', CONTEXT_URLS.ed25519, 'https://w3id.org/security/suites/jws-2020/v1'],
    id: controller,
    verificationMethod: own.map(verificationMethodDocument),
    assertionMethod: own.map((key) => verificationMethodId(controller, key.keyId)),
  };
};

/**
 * The offline document loader: pinned contexts, plus the verification methods and controller
 * documents of the given trusted keys. Any other URL throws `UnknownDocumentError`.
 */
export const createDocumentLoader = (trusted: readonly TrustedKey[] = []): DocumentLoader => {
  const documents = new Map<string, unknown>();
  for (const key of trusted) {
    documents.set(verificationMethodId(key.controller, key.keyId), verificationMethodDocument(key));
    documents.set(key.controller, controllerDocument(key.controller, trusted));
  }
  return async (url: string) => {
    const context = pinnedContext(url);
    if (context !== undefined) return remote(url, context);
    const document = documents.get(url);
    if (document !== undefined) {
      // DID documents list the key in `verificationMethod`; a copy keeps callers from mutating ours.
      return remote(url, structuredClone(document));
    }
    throw new UnknownDocumentError(url);
  };
};

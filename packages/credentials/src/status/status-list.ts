import { gunzipSync, gzipSync } from 'node:zlib';
import { CONTEXT_URLS } from '../contexts.js';
import type { CredentialStatus } from '../model.js';
import { w3cDate } from '../proofs/verify-data.js';

/**
 * W3C StatusList2021: a bitstring with one bit per certificate (1 = revoked), gzipped and base64url
 * encoded in a signed credential that verifiers download. Bit `i` is bit `7 - i % 8` of byte
 * `i / 8` (left-to-right), as @digitalbazaar/vc-status-list reads it.
 */
export const encodeStatusList = (size: number, revoked: Iterable<number>): string => {
  if (size % 8 !== 0) throw new RangeError('a status list size must be a multiple of 8');
  const bits = new Uint8Array(size / 8);
  for (const index of revoked) {
    if (!Number.isInteger(index) || index < 0 || index >= size)
      throw new RangeError(`status index ${index} is outside the list`);
    bits[index >> 3] = (bits[index >> 3] as number) | (0x80 >> (index & 7));
  }
  return gzipSync(bits, { level: 9 }).toString('base64url');
};

/** The bitstring of an encoded list; throws on anything that is not a gzipped base64url bitstring. */
export const decodeStatusList = (encodedList: string): Uint8Array => gunzipSync(Buffer.from(encodedList, 'base64url'));

export const isStatusSet = (bits: Uint8Array, index: number): boolean => {
  if (!Number.isInteger(index) || index < 0 || index >= bits.length * 8) {
    throw new RangeError(`status index ${index} is outside the list of ${bits.length * 8} entries`);
  }
  return ((bits[index >> 3] as number) & (0x80 >> (index & 7))) !== 0;
};

/** The `credentialStatus` entry of a certificate holding bit `index` of the list at `listUrl`. */
export const statusEntry = (listUrl: string, index: number): CredentialStatus => ({
  id: `${listUrl}#${index}`,
  type: 'StatusList2021Entry',
  statusPurpose: 'revocation',
  statusListIndex: String(index),
  statusListCredential: listUrl,
});

export interface StatusListCredential {
  '@context': string[];
  id: string;
  type: ['VerifiableCredential', 'StatusList2021Credential'];
  issuer: string;
  issuanceDate: string;
  credentialSubject: { id: string; type: 'StatusList2021'; statusPurpose: 'revocation'; encodedList: string };
}

/** The unsigned list credential; sign it with `signCredential` like a certificate. */
export const buildStatusListCredential = ({
  listUrl,
  issuer,
  encodedList,
  issuanceDate,
}: {
  listUrl: string;
  issuer: string;
  encodedList: string;
  issuanceDate: Date;
}): StatusListCredential => ({
  '@context': [CONTEXT_URLS.credentials, CONTEXT_URLS.statusList2021],
  id: listUrl,
  type: ['VerifiableCredential', 'StatusList2021Credential'],
  issuer,
  issuanceDate: w3cDate(issuanceDate),
  credentialSubject: { id: `${listUrl}#list`, type: 'StatusList2021', statusPurpose: 'revocation', encodedList },
});

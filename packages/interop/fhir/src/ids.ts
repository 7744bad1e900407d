import { createHash } from 'node:crypto';

/** Namespace of the name-based UUIDs of our DDCC documents (a fixed random UUID, never to change). */
export const DDCC_UUID_NAMESPACE = '6f1d2c3a-8a4e-4b9e-9a57-1c2f0b6d7e21';

const namespaceBytes = Buffer.from(DDCC_UUID_NAMESPACE.replace(/-/g, ''), 'hex');

/**
 * A name-based UUID (RFC 9562 version 5, SHA-1) of `name` in our namespace: the same certificate always
 * gets the same resource ids, so an export is reproducible and a re-export replaces rather than duplicates.
 */
export const nameUuid = (name: string): string => {
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

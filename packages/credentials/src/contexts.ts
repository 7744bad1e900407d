import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The JSON-LD contexts a credential may use. Each is shipped as a file in `contexts/` and pinned by
 * its SHA-256: what a signature means depends on these bytes, so a changed file is an error, not an
 * update. New versions get new URLs and new files.
 */
export const CONTEXT_URLS = {
  credentials: 'https://www.w3.org/2018/credentials/v1',
  divoc: 'https://divoc-ts.org/credentials/v1',
  ed25519: 'https://w3id.org/security/suites/ed25519-2020/v1',
  statusList2021: 'https://w3id.org/vc/status-list/2021/v1',
} as const;

const PINNED: Record<string, { file: string; sha256: string }> = {
  [CONTEXT_URLS.credentials]: {
    file: 'w3c-credentials-v1.jsonld',
    sha256: '00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8',
  },
  [CONTEXT_URLS.divoc]: {
    file: 'divoc-credentials-v1.jsonld',
    sha256: 'f0e9e51f5a905a6e23581233a3a94e6e394f2049bb1f5bb1c6bcd2a720934f4a',
  },
  [CONTEXT_URLS.statusList2021]: {
    file: 'w3id-vc-status-list-2021-v1.jsonld',
    sha256: '634d71c159289f068c96012e4511c657fdf82ac4231900081bda3ba24e2e1160',
  },
  [CONTEXT_URLS.ed25519]: {
    file: 'w3id-security-ed25519-2020-v1.jsonld',
    sha256: 'b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588',
  },
};

const loaded = new Map<string, unknown>();

/** The pinned context document for a URL, or undefined if the URL is not one of ours. */
export const pinnedContext = (url: string): unknown => {
  const pin = PINNED[url];
  if (pin === undefined) return undefined;
  let document = loaded.get(url);
  if (document === undefined) {
    const bytes = readFileSync(new URL(`../contexts/${pin.file}`, import.meta.url));
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== pin.sha256) {
      throw new Error(`context ${url} (${pin.file}) does not match its pinned SHA-256; refusing to use it`);
    }
    document = JSON.parse(bytes.toString('utf8'));
    loaded.set(url, document);
  }
  return document;
};

export const pinnedContextUrls = (): string[] => Object.keys(PINNED);

/** The first entry of `contexts` that is not a pinned context URL, if any. */
export const firstUnpinnedContext = (contexts: readonly unknown[]): unknown =>
  contexts.find((context) => typeof context !== 'string' || PINNED[context] === undefined);

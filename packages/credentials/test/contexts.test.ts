// @ts-expect-error: no type declarations are published for this package
import * as credentialsContext from '@digitalbazaar/credentials-context';
// @ts-expect-error: no type declarations are published for this package
import * as ed25519Context from 'ed25519-signature-2020-context';
import { describe, expect, it } from 'vitest';
import { CONTEXT_URLS, createDocumentLoader, pinnedContext, pinnedContextUrls } from '../src/index.js';

const termsOf = (context: unknown): string[] => {
  const definitions = (context as { '@context': Record<string, unknown> })['@context'];
  return Object.keys(definitions);
};

describe('pinned contexts', () => {
  it('are byte-for-byte the upstream documents', () => {
    expect(pinnedContext(CONTEXT_URLS.credentials)).toEqual(credentialsContext.contexts.get(CONTEXT_URLS.credentials));
    expect(pinnedContext(CONTEXT_URLS.ed25519)).toEqual(ed25519Context.contexts.get(CONTEXT_URLS.ed25519));
  });

  it('give every term of our context its own IRI', () => {
    const definitions = (pinnedContext(CONTEXT_URLS.divoc) as { '@context': Record<string, unknown> })['@context'];
    const iris = Object.entries(definitions)
      .filter(([term]) => !term.startsWith('@') && !['id', 'type', 'dv', 'xsd'].includes(term))
      .map(([, definition]) =>
        typeof definition === 'string' ? definition : (definition as { '@id': string })['@id'],
      );
    expect(new Set(iris).size).toBe(iris.length);
  });

  it('define no term the fast canonicalizer treats as an IRI scheme', () => {
    for (const url of pinnedContextUrls()) {
      for (const scheme of ['did', 'http', 'https', 'urn']) expect(termsOf(pinnedContext(url))).not.toContain(scheme);
    }
  });

  it('are all that the offline loader serves', async () => {
    const loader = createDocumentLoader();
    for (const url of pinnedContextUrls()) await expect(loader(url)).resolves.toMatchObject({ documentUrl: url });
    await expect(loader('https://www.w3.org/ns/credentials/v2')).rejects.toThrow(/never fetched/);
  });
});

import jsonld, { type DocumentLoader } from 'jsonld';
import { canonicalNQuads, canonicalNQuadsOfTemplate } from './label.js';
import { probeDocument, shapeOf } from './shape.js';
import { compileTemplate, distinctQuads, hasDuplicateQuads, renderTemplate, type Template } from './template.js';

/** The options jsonld-signatures uses: RDFC-1.0, no base IRI, and safe mode (dropped terms are errors). */
const canonizeOptions = (documentLoader: DocumentLoader) =>
  ({ algorithm: 'RDFC-1.0', format: 'application/n-quads', base: null, safe: true, documentLoader }) as const;

export interface Canonicalizer {
  /** Canonical N-Quads of a JSON-LD document, identical to `jsonld.canonize` with the signature options. */
  canonize(document: object): Promise<string>;
  /** How documents were canonicalized so far (for the benchmark and tests). */
  readonly stats: { fast: number; generic: number; shapes: number };
}

/** At most this many compiled shapes are kept; a credential system has a handful. */
const MAX_SHAPES = 512;

/**
 * Canonicalizes with a compiled template per document shape, falling back to the generic
 * `jsonld.canonize` for shapes or values the template cannot express. A template is only used after
 * it reproduced the generic result for the document it was compiled from.
 */
export const createCanonicalizer = (documentLoader: DocumentLoader): Canonicalizer => {
  const templates = new Map<string, Template | null>();
  const stats = { fast: 0, generic: 0, shapes: 0 };
  const options = canonizeOptions(documentLoader);

  const generic = (document: object): Promise<string> => {
    stats.generic++;
    return jsonld.canonize(document, options);
  };

  const compile = async (document: object, key: string, leafCount: number): Promise<Template | null> => {
    const { format: _nquads, ...datasetOptions } = options;
    // A shape JSON-LD rejects (an undefined term, say) is remembered as generic-only, so the generic
    // path reports the error each time without re-probing the shape.
    const quads = await jsonld.toRDF(probeDocument(document), datasetOptions).catch(() => undefined);
    const template = (quads && compileTemplate(quads, leafCount)) ?? null;
    if (templates.size >= MAX_SHAPES) templates.clear();
    templates.set(key, template);
    stats.shapes++;
    return template;
  };

  const fast = (template: Template, leaves: ReturnType<typeof shapeOf>['leaves']): string | undefined => {
    const rendered = renderTemplate(template, leaves);
    if (rendered === undefined) return undefined;
    if (!hasDuplicateQuads(template, rendered)) return canonicalNQuadsOfTemplate(template, rendered);
    // Equal leaves merged two triples: the general labelling works on the deduplicated set.
    return canonicalNQuads(distinctQuads(template, rendered));
  };

  return {
    stats,
    async canonize(document) {
      const { key, leaves } = shapeOf(document);
      let template = templates.get(key);
      if (template === undefined) {
        template = await compile(document, key, leaves.length);
        if (template !== null) {
          const expected = await generic(document);
          if (fast(template, leaves) !== expected) templates.set(key, null);
          return expected;
        }
      }
      if (template !== null) {
        const result = fast(template, leaves);
        if (result !== undefined) {
          stats.fast++;
          return result;
        }
      }
      return generic(document);
    },
  };
};

/** The generic path alone: the reference the fast path is tested against. */
export const canonizeGeneric = (document: object, documentLoader: DocumentLoader): Promise<string> =>
  jsonld.canonize(document, canonizeOptions(documentLoader));

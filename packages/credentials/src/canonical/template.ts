import type { Quad, Term } from 'jsonld';
import { escapeIri, escapeLiteral, serializeLiteral, XSD_STRING } from './nquads.js';
import { type Leaf, PROBE_NUMBER_BASE, probeStringIndex } from './shape.js';

/**
 * A compiled graph: the quads of one document shape, with each free value replaced by a reference
 * to the leaf it came from. Filling it with a document's leaves yields that document's quads
 * without running JSON-LD expansion again.
 */

type Part =
  | { kind: 'text'; text: string } // constant IRI or literal, already serialized
  | { kind: 'blank'; label: string } // blank node, labelled as in the probe
  | { kind: 'iriLeaf'; leaf: number } // <leaf>
  | { kind: 'literalLeaf'; leaf: number; suffix: string } // "leaf"^^<datatype>
  | { kind: 'integerLeaf'; leaf: number; suffix: string }; // "123"^^<xsd:integer>

interface TemplateQuad {
  subject: Part;
  predicate: string;
  object: Part;
}

export interface Template {
  quads: TemplateQuad[];
  blankLabels: string[];
}

/** A filled quad: serialized terms, blank nodes still carrying their probe label. */
export interface FilledQuad {
  subject: string;
  subjectIsBlank: boolean;
  predicate: string;
  object: string;
  objectIsBlank: boolean;
}

/** jsonld's notion of an absolute IRI, narrowed to schemes no context of ours defines as a prefix. */
const SAFE_ABSOLUTE_IRI = /^(?:did|https?|urn):[^\s]*$/i;

const XSD_INTEGER = 'http://www.w3.org/2001/XMLSchema#integer';

const literalSuffix = (term: Term): string =>
  serializeLiteral('', term.datatype?.value ?? XSD_STRING, term.language).slice(2);

/**
 * Builds a template from the quads that JSON-LD produced for a probe document (see `probeDocument`).
 * Returns undefined when the graph is not a plain function of the leaves (a leaf used twice or
 * dropped, a named graph, a number rendered as a double): such shapes always take the generic path.
 */
export const compileTemplate = (quads: readonly Quad[], leafCount: number): Template | undefined => {
  // A literal leaf must appear exactly once; an IRI leaf (a node id) appears in every quad of its node.
  const literalUses = new Array<number>(leafCount).fill(0);
  const iriUses = new Array<number>(leafCount).fill(0);
  const blankLabels = new Set<string>();

  const part = (term: Term): Part | undefined => {
    if (term.termType === 'BlankNode') {
      blankLabels.add(term.value);
      return { kind: 'blank', label: term.value };
    }
    if (term.termType === 'NamedNode') {
      const leaf = probeStringIndex(term.value);
      if (leaf < 0) return { kind: 'text', text: `<${escapeIri(term.value)}>` };
      iriUses[leaf] = (iriUses[leaf] ?? 0) + 1;
      return { kind: 'iriLeaf', leaf };
    }
    if (term.termType === 'Literal') {
      const stringLeaf = probeStringIndex(term.value);
      if (stringLeaf >= 0) {
        literalUses[stringLeaf] = (literalUses[stringLeaf] ?? 0) + 1;
        return { kind: 'literalLeaf', leaf: stringLeaf, suffix: literalSuffix(term) };
      }
      if (term.datatype?.value === XSD_INTEGER && /^\d+$/.test(term.value)) {
        const leaf = Number(term.value) - PROBE_NUMBER_BASE;
        if (leaf >= 0 && leaf < leafCount) {
          literalUses[leaf] = (literalUses[leaf] ?? 0) + 1;
          return { kind: 'integerLeaf', leaf, suffix: literalSuffix(term) };
        }
      }
      return {
        kind: 'text',
        text: serializeLiteral(term.value, term.datatype?.value ?? XSD_STRING, term.language),
      };
    }
    return undefined;
  };

  const compiled: TemplateQuad[] = [];
  for (const quad of quads) {
    if (quad.graph.termType !== 'DefaultGraph' || quad.predicate.termType !== 'NamedNode') return undefined;
    const subject = part(quad.subject);
    const object = part(quad.object);
    if (!subject || !object) return undefined;
    compiled.push({ subject, predicate: `<${escapeIri(quad.predicate.value)}>`, object });
  }
  for (let leaf = 0; leaf < leafCount; leaf++) {
    const asIri = iriUses[leaf] ?? 0;
    const asLiteral = literalUses[leaf] ?? 0;
    if (asIri > 0 ? asLiteral > 0 : asLiteral !== 1) return undefined;
  }
  return { quads: compiled, blankLabels: [...blankLabels] };
};

/**
 * The document's quads, or undefined when a leaf value would make JSON-LD do something the template
 * does not (a relative or blank-node IRI, a non-integer number): the caller then canonicalizes generically.
 */
export const fillTemplate = (template: Template, leaves: readonly Leaf[]): FilledQuad[] | undefined => {
  const filled: FilledQuad[] = [];
  const seen = new Set<string>();
  for (const quad of template.quads) {
    const subject = render(quad.subject, leaves);
    const object = render(quad.object, leaves);
    if (subject === undefined || object === undefined) return undefined;
    const subjectIsBlank = quad.subject.kind === 'blank';
    const objectIsBlank = quad.object.kind === 'blank';
    // RDF datasets are sets: two leaves may yield the same triple (e.g. equal ids merge nodes).
    const identity = `${subjectIsBlank ? '_:' : ''}${subject} ${quad.predicate} ${objectIsBlank ? '_:' : ''}${object}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    filled.push({ subject, subjectIsBlank, predicate: quad.predicate, object, objectIsBlank });
  }
  return filled;
};

const render = (part: Part, leaves: readonly Leaf[]): string | undefined => {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'blank':
      return part.label;
    case 'iriLeaf': {
      const value = leaves[part.leaf];
      if (typeof value !== 'string' || !SAFE_ABSOLUTE_IRI.test(value)) return undefined;
      return `<${escapeIri(value)}>`;
    }
    case 'literalLeaf': {
      const value = leaves[part.leaf];
      return typeof value === 'string' ? `"${escapeLiteral(value)}"${part.suffix}` : undefined;
    }
    case 'integerLeaf': {
      const value = leaves[part.leaf];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || Object.is(value, -0)) return undefined;
      return `"${value.toFixed(0)}"${part.suffix}`;
    }
  }
};

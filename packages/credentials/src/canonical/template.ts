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
  /** Per quad, the index in `blankLabels` of its subject's blank node, or -1 (likewise its object's). */
  subjectBlank: number[];
  objectBlank: number[];
  /** Per blank node, the quads that mention it, grouped in the order their hash lines sort. */
  related: RelatedQuads[];
  /** The quads grouped by subject term, each group in the order its lines sort. */
  subjectGroups: SubjectGroup[];
  /**
   * Quads that could come out identical to another quad for some leaf values (same predicate, and
   * parts that are leaves or equal): only these need checking for RDF's set semantics.
   */
  collisionCandidates: number[];
}

/**
 * The quads that mention one blank node, grouped as their lines sort when the node is hashed (its own
 * label written `_:a`, any other blank node `_:z`): IRI subjects (`<` sorts first), then the node as
 * subject (`_:a …`), then other blank nodes as subject (`_:z … _:a`). Lines with the same subject sort by
 * predicate; predicates never prefix one another (they end in `>`), so that order is fixed here.
 */
export interface RelatedQuads {
  /** Quads with an IRI subject: the subjects are leaf values, so these are sorted when rendered. */
  iriSubject: number[];
  /** Quads with the node as subject, by predicate. */
  asSubject: number[];
  /** Whether two of `asSubject` share a predicate: their objects then decide, once rendered. */
  asSubjectRepeatsPredicate: boolean;
  /** Quads from another blank node to this one (all `_:z <p> _:a`), by predicate. */
  fromOtherBlank: number[];
}

/** The quads of one subject term (a blank node, a constant IRI or an IRI leaf), by predicate. */
export interface SubjectGroup {
  /** The blank node that is the subject, or -1 for an IRI. */
  blank: number;
  quads: number[];
  /** Whether two quads share a predicate: their objects then decide, once rendered. */
  repeatsPredicate: boolean;
}

/** A template's subjects and objects for one document, serialized; blank parts hold their probe label. */
export interface RenderedQuads {
  subjects: string[];
  objects: string[];
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
  return withLabelling(compiled, [...blankLabels]);
};

/** Identifies a term of the template: equal keys render equal for every document. */
const termKey = (part: Part): string =>
  part.kind === 'blank'
    ? `blank ${part.label}`
    : part.kind === 'text'
      ? `text ${part.text}`
      : `${part.kind} ${part.leaf}`;

/** Code-unit order, as N-Quads lines are sorted. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Two parts that can serialize to the same text for some leaf values. */
const mayBeEqual = (a: Part, b: Part): boolean => {
  if (a.kind === 'blank' || b.kind === 'blank') return a.kind === 'blank' && b.kind === 'blank' && a.label === b.label;
  if (a.kind === 'text' && b.kind === 'text') return a.text === b.text;
  return true;
};

/** Precomputes what labelling needs and does not depend on the leaves. */
const withLabelling = (quads: TemplateQuad[], blankLabels: string[]): Template => {
  const indexOf = new Map(blankLabels.map((label, index) => [label, index]));
  const blankIndex = (part: Part) => (part.kind === 'blank' ? (indexOf.get(part.label) as number) : -1);
  const subjectBlank = quads.map((quad) => blankIndex(quad.subject));
  const objectBlank = quads.map((quad) => blankIndex(quad.object));
  const byPredicate = (indices: number[]) =>
    indices.sort((a, b) => compareText((quads[a] as TemplateQuad).predicate, (quads[b] as TemplateQuad).predicate));
  const repeatsPredicate = (indices: number[]) =>
    indices.some(
      (index, at) => at > 0 && (quads[index] as TemplateQuad).predicate === quads[indices[at - 1] as number]?.predicate,
    );

  const related = blankLabels.map((_, blank): RelatedQuads => {
    const mentioning = quads
      .map((_, index) => index)
      .filter((index) => subjectBlank[index] === blank || objectBlank[index] === blank);
    const asSubject = byPredicate(mentioning.filter((index) => subjectBlank[index] === blank));
    return {
      iriSubject: mentioning.filter((index) => (subjectBlank[index] as number) < 0),
      asSubject,
      asSubjectRepeatsPredicate: repeatsPredicate(asSubject),
      fromOtherBlank: byPredicate(
        mentioning.filter((index) => (subjectBlank[index] as number) >= 0 && subjectBlank[index] !== blank),
      ),
    };
  });

  const groups = new Map<string, number[]>();
  quads.forEach((quad, index) => {
    const key = termKey(quad.subject);
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [index]);
    else members.push(index);
  });
  const subjectGroups = [...groups.values()].map((members): SubjectGroup => {
    byPredicate(members);
    return {
      blank: subjectBlank[members[0] as number] as number,
      quads: members,
      repeatsPredicate: repeatsPredicate(members),
    };
  });

  const candidates = new Set<number>();
  for (let i = 0; i < quads.length; i++) {
    for (let j = i + 1; j < quads.length; j++) {
      const a = quads[i] as TemplateQuad;
      const b = quads[j] as TemplateQuad;
      if (a.predicate === b.predicate && mayBeEqual(a.subject, b.subject) && mayBeEqual(a.object, b.object)) {
        candidates.add(i);
        candidates.add(j);
      }
    }
  }
  return {
    quads,
    blankLabels,
    subjectBlank,
    objectBlank,
    related,
    subjectGroups,
    collisionCandidates: [...candidates],
  };
};

/**
 * The template's terms for the document's leaves, or undefined when a leaf value would make JSON-LD
 * do something the template does not (a relative or blank-node IRI, a non-integer number): the caller
 * then canonicalizes generically.
 */
export const renderTemplate = (template: Template, leaves: readonly Leaf[]): RenderedQuads | undefined => {
  const count = template.quads.length;
  const subjects = new Array<string>(count);
  const objects = new Array<string>(count);
  for (let index = 0; index < count; index++) {
    const quad = template.quads[index] as TemplateQuad;
    const subject = render(quad.subject, leaves);
    const object = render(quad.object, leaves);
    if (subject === undefined || object === undefined) return undefined;
    subjects[index] = subject;
    objects[index] = object;
  }
  return { subjects, objects };
};

const identityOf = (template: Template, rendered: RenderedQuads, index: number): string =>
  `${(template.subjectBlank[index] as number) >= 0 ? '_:' : ''}${rendered.subjects[index]} ${
    (template.quads[index] as TemplateQuad).predicate
  } ${(template.objectBlank[index] as number) >= 0 ? '_:' : ''}${rendered.objects[index]}`;

/** True when two quads came out identical (equal leaves can merge triples; an RDF dataset is a set). */
export const hasDuplicateQuads = (template: Template, rendered: RenderedQuads): boolean => {
  if (template.collisionCandidates.length === 0) return false;
  const seen = new Set<string>();
  for (const index of template.collisionCandidates) {
    const identity = identityOf(template, rendered, index);
    if (seen.has(identity)) return true;
    seen.add(identity);
  }
  return false;
};

/** The rendered quads as a set: each distinct quad once, in template order. */
export const distinctQuads = (template: Template, rendered: RenderedQuads): FilledQuad[] => {
  const filled: FilledQuad[] = [];
  const seen = new Set<string>();
  template.quads.forEach((quad, index) => {
    const identity = identityOf(template, rendered, index);
    if (seen.has(identity)) return;
    seen.add(identity);
    filled.push({
      subject: rendered.subjects[index] as string,
      subjectIsBlank: quad.subject.kind === 'blank',
      predicate: quad.predicate,
      object: rendered.objects[index] as string,
      objectIsBlank: quad.object.kind === 'blank',
    });
  });
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

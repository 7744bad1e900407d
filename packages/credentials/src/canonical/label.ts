import { createHash, hash } from 'node:crypto';
import {
  compareText,
  type FilledQuad,
  type RelatedQuads,
  type RenderedQuads,
  type SubjectGroup,
  type Template,
} from './template.js';

/**
 * RDF Dataset Canonicalization (RDFC-1.0) for the common case where every blank node has a unique
 * first-degree hash: hash each blank node's quads (itself as `_:a`, others as `_:z`), label the
 * nodes `c14n0…` in hash order, serialize and sort. Returns undefined when two blank nodes share a
 * hash; those need the full N-degree algorithm, which the caller delegates to rdf-canonize.
 */
export const canonicalNQuads = (quads: readonly FilledQuad[]): string | undefined => {
  const quadsOfBlank = new Map<string, FilledQuad[]>();
  const track = (label: string, quad: FilledQuad) => {
    const list = quadsOfBlank.get(label);
    if (list === undefined) quadsOfBlank.set(label, [quad]);
    else if (list[list.length - 1] !== quad) list.push(quad);
  };
  for (const quad of quads) {
    if (quad.subjectIsBlank) track(quad.subject, quad);
    if (quad.objectIsBlank) track(quad.object, quad);
  }

  const hashed: { label: string; hash: string }[] = [];
  for (const [label, related] of quadsOfBlank) {
    const lines = related.map(
      (quad) =>
        `${quad.subjectIsBlank ? (quad.subject === label ? '_:a' : '_:z') : quad.subject} ${quad.predicate} ${
          quad.objectIsBlank ? (quad.object === label ? '_:a' : '_:z') : quad.object
        } .\n`,
    );
    lines.sort();
    const digest = createHash('sha256');
    for (const line of lines) digest.update(line);
    hashed.push({ label, hash: digest.digest('hex') });
  }
  hashed.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const canonical = new Map<string, string>();
  for (let i = 0; i < hashed.length; i++) {
    const entry = hashed[i] as { label: string; hash: string };
    if (i > 0 && (hashed[i - 1] as { hash: string }).hash === entry.hash) return undefined;
    canonical.set(entry.label, `_:c14n${i}`);
  }

  const lines = quads.map(
    (quad) =>
      `${quad.subjectIsBlank ? canonical.get(quad.subject) : quad.subject} ${quad.predicate} ${
        quad.objectIsBlank ? canonical.get(quad.object) : quad.object
      } .\n`,
  );
  lines.sort();
  return lines.join('');
};

/**
 * `canonicalNQuads` for a compiled template's distinct quads (see `hasDuplicateQuads`), using what the
 * template precomputed: which quads mention which blank node, and the order lines of one subject sort
 * in. Same result without grouping or sorting whole sets of lines again — this runs for every
 * certificate signed and verified.
 */
export const canonicalNQuadsOfTemplate = (template: Template, rendered: RenderedQuads): string | undefined => {
  const { quads, subjectBlank, objectBlank, related, subjectGroups } = template;
  const { subjects, objects } = rendered;
  const blankCount = related.length;

  // First-degree hashes: each blank node's quads with itself as _:a and other blank nodes as _:z.
  const hashes = new Array<string>(blankCount);
  for (let blank = 0; blank < blankCount; blank++) {
    const { iriSubject, asSubject, asSubjectRepeatsPredicate, fromOtherBlank } = related[blank] as RelatedQuads;
    const line = (index: number) => {
      const object = objectBlank[index] as number;
      const subject = subjectBlank[index] as number;
      return `${subject < 0 ? subjects[index] : subject === blank ? '_:a' : '_:z'} ${(quads[index] as { predicate: string }).predicate} ${
        object < 0 ? objects[index] : object === blank ? '_:a' : '_:z'
      } .\n`;
    };
    const fromIris = iriSubject.map(line);
    const own = asSubject.map(line);
    if (fromIris.length > 1) fromIris.sort();
    if (asSubjectRepeatsPredicate) own.sort();
    hashes[blank] = hash('sha256', fromIris.join('') + own.join('') + fromOtherBlank.map(line).join(''));
  }
  const order = Array.from({ length: blankCount }, (_, blank) => blank);
  order.sort((a, b) => compareText(hashes[a] as string, hashes[b] as string));
  const labels = new Array<string>(blankCount);
  for (let rank = 0; rank < blankCount; rank++) {
    const blank = order[rank] as number;
    if (rank > 0 && hashes[order[rank - 1] as number] === hashes[blank]) return undefined;
    labels[blank] = `_:c14n${rank}`;
  }

  // Lines sort by subject first, so each subject's lines (already in predicate order) stay together.
  const line = (index: number) => {
    const subject = subjectBlank[index] as number;
    const object = objectBlank[index] as number;
    return `${subject < 0 ? subjects[index] : labels[subject]} ${(quads[index] as { predicate: string }).predicate} ${
      object < 0 ? objects[index] : labels[object]
    } .\n`;
  };
  const subjectOf = (group: SubjectGroup) =>
    group.blank >= 0 ? (labels[group.blank] as string) : (subjects[group.quads[0] as number] as string);
  const groups = [...subjectGroups].sort((a, b) => compareText(subjectOf(a), subjectOf(b)));
  const lines: string[] = [];
  for (let at = 0; at < groups.length; at++) {
    const group = groups[at] as SubjectGroup;
    // Two subject terms rendered the same IRI (equal leaf values): their lines interleave.
    if (at > 0 && subjectOf(groups[at - 1] as SubjectGroup) === subjectOf(group))
      return quads
        .map((_, index) => line(index))
        .sort()
        .join('');
    if (group.repeatsPredicate) lines.push(...group.quads.map(line).sort());
    else for (const index of group.quads) lines.push(line(index));
  }
  return lines.join('');
};

import { createHash, hash } from 'node:crypto';
import type { FilledQuad, RenderedQuads, Template } from './template.js';

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
 * template precomputed: which quads mention which blank node. Same result, without grouping the quads
 * again or building intermediate objects — this runs for every certificate signed and verified.
 */
export const canonicalNQuadsOfTemplate = (template: Template, rendered: RenderedQuads): string | undefined => {
  const { quads, subjectBlank, objectBlank, related } = template;
  const { subjects, objects } = rendered;
  const blankCount = related.length;

  const hashes = new Array<string>(blankCount);
  for (let blank = 0; blank < blankCount; blank++) {
    const lines = (related[blank] as number[]).map((index) => {
      const subject = subjectBlank[index] as number;
      const object = objectBlank[index] as number;
      return `${subject < 0 ? subjects[index] : subject === blank ? '_:a' : '_:z'} ${
        (quads[index] as { predicate: string }).predicate
      } ${object < 0 ? objects[index] : object === blank ? '_:a' : '_:z'} .\n`;
    });
    lines.sort();
    hashes[blank] = hash('sha256', lines.join(''));
  }
  const order = Array.from({ length: blankCount }, (_, blank) => blank);
  order.sort((a, b) => ((hashes[a] as string) < (hashes[b] as string) ? -1 : 1));
  const labels = new Array<string>(blankCount);
  for (let rank = 0; rank < blankCount; rank++) {
    const blank = order[rank] as number;
    if (rank > 0 && hashes[order[rank - 1] as number] === hashes[blank]) return undefined;
    labels[blank] = `_:c14n${rank}`;
  }

  const lines = quads.map((quad, index) => {
    const subject = subjectBlank[index] as number;
    const object = objectBlank[index] as number;
    return `${subject < 0 ? subjects[index] : labels[subject]} ${quad.predicate} ${
      object < 0 ? objects[index] : labels[object]
    } .\n`;
  });
  lines.sort();
  return lines.join('');
};

import { createHash } from 'node:crypto';
import type { FilledQuad } from './template.js';

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

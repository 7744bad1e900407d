import { NQuads } from 'rdf-canonize';
import { describe, expect, it } from 'vitest';
import { escapeIri, escapeLiteral } from '../src/canonical/nquads.js';

// rdf-canonize's own serializer, on one quad with the value as its object (literal) or subject (IRI).
const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';
const named = (value: string) => ({ termType: 'NamedNode', value });
const defaultGraph = { termType: 'DefaultGraph', value: '' };
const referenceLiteral = (value: string) =>
  NQuads.serializeQuadComponents(
    named('s:'),
    named('p:'),
    { termType: 'Literal', value, datatype: named(XSD_STRING) },
    defaultGraph,
  ).slice('<s:> <p:> "'.length, -'" .\n'.length);
const referenceIri = (iri: string) =>
  NQuads.serializeQuadComponents(named(iri), named('p:'), named('o:'), defaultGraph).slice(
    1,
    -'> <p:> <o:> .\n'.length,
  );

describe('N-Quads escapes', () => {
  it('escape each of the first 1,024 code points exactly as rdf-canonize does', () => {
    for (let code = 0; code < 0x400; code++) {
      const char = String.fromCharCode(code);
      for (const value of [char, `ab${char}`, `${char}cd`, `a${char}b${char}`]) {
        expect(escapeLiteral(value)).toBe(referenceLiteral(value));
        expect(escapeIri(value)).toBe(referenceIri(value));
      }
    }
  });

  it('leave text without such characters as it is (emoji and lone surrogates included)', () => {
    for (const value of ['Ananya Raghavan', "Dr. O'Brien", 'नि😷', '\ud800', ''])
      expect(escapeLiteral(value)).toBe(value);
    for (const iri of ['https://divoc.example/vaccine/1', 'did:web:नि😷', 'urn:x:\ud800', ''])
      expect(escapeIri(iri)).toBe(iri);
  });
});

/**
 * N-Quads term serialization, character for character as `rdf-canonize` writes it (the canonical
 * form is hashed, so a single differently escaped character would change every signature).
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: N-Quads escapes exactly these characters
const LITERAL_ESCAPES = /[\u0000-\u001F\u007F"\\]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: N-Quads escapes exactly these characters
const IRI_ESCAPES = /[\u0000-\u0020<>"{}|^`\\]/g;

const uchar = (char: string): string =>
  `\\u${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;

const ECHAR: Record<string, string> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
};

/** `"value"` with N-Quads escapes. */
export const escapeLiteral = (value: string): string =>
  value.replace(LITERAL_ESCAPES, (char) => ECHAR[char] ?? uchar(char));

/** The inside of `<iri>` with N-Quads escapes. */
export const escapeIri = (iri: string): string => iri.replace(IRI_ESCAPES, uchar);

export const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';
export const RDF_LANGSTRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';

/** Serialized literal: `"v"`, `"v"^^<dt>` (xsd:string is implicit) or `"v"@lang`. */
export const serializeLiteral = (value: string, datatype: string, language?: string): string => {
  const quoted = `"${escapeLiteral(value)}"`;
  if (datatype === RDF_LANGSTRING) return language ? `${quoted}@${language}` : quoted;
  return datatype === XSD_STRING ? quoted : `${quoted}^^<${escapeIri(datatype)}>`;
};

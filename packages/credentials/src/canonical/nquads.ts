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

// Most values need no escape; a scan finds that in half the time of a replace that matches nothing.
const needsLiteralEscape = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || code === 0x7f) return true;
  }
  return false;
};

// IRI_ESCAPES as a table of the ASCII codes it matches.
const IRI_ESCAPED = new Uint8Array(0x80);
for (let code = 0; code <= 0x20; code++) IRI_ESCAPED[code] = 1;
for (const char of '"<>\\^`{|}') IRI_ESCAPED[char.charCodeAt(0)] = 1;
const needsIriEscape = (iri: string): boolean => {
  for (let i = 0; i < iri.length; i++) {
    const code = iri.charCodeAt(i);
    if (code < 0x80 && IRI_ESCAPED[code] === 1) return true;
  }
  return false;
};

/** `"value"` with N-Quads escapes. */
export const escapeLiteral = (value: string): string =>
  needsLiteralEscape(value) ? value.replace(LITERAL_ESCAPES, (char) => ECHAR[char] ?? uchar(char)) : value;

/** The inside of `<iri>` with N-Quads escapes. */
export const escapeIri = (iri: string): string => (needsIriEscape(iri) ? iri.replace(IRI_ESCAPES, uchar) : iri);

export const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';
export const RDF_LANGSTRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';

/** Serialized literal: `"v"`, `"v"^^<dt>` (xsd:string is implicit) or `"v"@lang`. */
export const serializeLiteral = (value: string, datatype: string, language?: string): string => {
  const quoted = `"${escapeLiteral(value)}"`;
  if (datatype === RDF_LANGSTRING) return language ? `${quoted}@${language}` : quoted;
  return datatype === XSD_STRING ? quoted : `${quoted}^^<${escapeIri(datatype)}>`;
};

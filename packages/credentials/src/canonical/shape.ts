/**
 * A document's *shape* is everything about it except its free values: its keys, array lengths,
 * `@context`, `type` and `proofPurpose` (kept verbatim, because JSON-LD resolves them as terms),
 * booleans and nulls. Documents of one shape become the same RDF graph with different values,
 * so the graph can be compiled once per shape and refilled for each document.
 */

/** Keys whose values JSON-LD interprets as vocabulary terms: they are part of the shape, never leaves. */
const VERBATIM_KEYS = new Set(['@context', 'type', '@type', 'proofPurpose']);

export type Leaf = string | number;

export interface Shape {
  /** Identifies the shape; equal keys mean the same compiled graph applies. */
  key: string;
  /** The free values in walk order; a compiled graph refers to them by index. */
  leaves: Leaf[];
}

/**
 * Member names as they appear in shape keys: the first 128 distinct names as one character each
 * (U+0080–U+00FF, which no other part of a key uses outside a quoted JSON value), any further name
 * JSON-quoted. Short keys matter because the key is hashed for every document canonicalized.
 */
const nameCodes = new Map<string, string>();
const MAX_CODED_NAMES = 128;
const nameToken = (name: string): string => {
  let code = nameCodes.get(name);
  if (code === undefined) {
    code = nameCodes.size < MAX_CODED_NAMES ? String.fromCharCode(0x80 + nameCodes.size) : `${JSON.stringify(name)}:`;
    if (nameCodes.size < 10_000) nameCodes.set(name, code);
  }
  return code;
};

/** Walks a JSON document once, returning its shape key and its leaf values. */
export const shapeOf = (document: unknown): Shape => {
  const leaves: Leaf[] = [];
  let key = '';
  const visit = (value: unknown): void => {
    switch (typeof value) {
      case 'string':
        leaves.push(value);
        key += 's';
        return;
      case 'number':
        leaves.push(value);
        key += 'n';
        return;
      case 'boolean':
        key += value ? 'T' : 'F';
        return;
      case 'object':
        if (value === null) {
          key += '0';
        } else if (Array.isArray(value)) {
          key += '[';
          for (const item of value) {
            visit(item);
            key += ',';
          }
          key += ']';
        } else {
          key += '{';
          const record = value as Record<string, unknown>;
          for (const name in record) {
            const member = record[name];
            if (member === undefined) continue;
            key += nameToken(name);
            if (VERBATIM_KEYS.has(name)) key += JSON.stringify(member);
            else visit(member);
            key += ',';
          }
          key += '}';
        }
        return;
      default:
        throw new TypeError(`cannot canonicalize a ${typeof value} value: documents must be JSON`);
    }
  };
  visit(document);
  return { key, leaves };
};

const PROBE_IRI_PREFIX = 'urn:x-divoc-probe:';
/** Probe numbers are far above any real dose or index, so they cannot collide with constants. */
export const PROBE_NUMBER_BASE = 7_300_000_000_000;

export const probeString = (index: number): string => `${PROBE_IRI_PREFIX}${index}`;
export const probeNumber = (index: number): number => PROBE_NUMBER_BASE + index;

/** The leaf index a probe string stands for, or -1. */
export const probeStringIndex = (value: string): number =>
  value.startsWith(PROBE_IRI_PREFIX) ? Number(value.slice(PROBE_IRI_PREFIX.length)) : -1;

/**
 * A copy of `document` with every leaf replaced by a unique probe value: strings by a URN (valid
 * both as a literal and as an IRI), numbers by a large integer.
 */
export const probeDocument = (document: unknown): unknown => {
  let next = 0;
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') return probeString(next++);
    if (typeof value === 'number') return probeNumber(next++);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(copy);
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      if (member === undefined) continue;
      out[name] = VERBATIM_KEYS.has(name) ? member : copy(member);
    }
    return out;
  };
  return copy(document);
};

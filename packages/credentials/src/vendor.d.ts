// Minimal typings for the untyped JSON-LD libraries, covering only what this package calls.

declare module 'jsonld' {
  export interface RemoteDocument {
    contextUrl: string | null;
    documentUrl: string;
    document: unknown;
  }
  export type DocumentLoader = (url: string) => Promise<RemoteDocument>;
  export interface Term {
    termType: 'NamedNode' | 'BlankNode' | 'Literal' | 'DefaultGraph';
    value: string;
    datatype?: { termType: 'NamedNode'; value: string };
    language?: string;
  }
  export interface Quad {
    subject: Term;
    predicate: Term;
    object: Term;
    graph: Term;
  }
  export interface Options {
    documentLoader?: DocumentLoader;
    safe?: boolean;
    base?: string | null;
    algorithm?: string;
    format?: string;
  }
  const jsonld: {
    canonize(input: unknown, options: Options): Promise<string>;
    toRDF(input: unknown, options: Options): Promise<Quad[]>;
  };
  export default jsonld;
}

declare module 'rdf-canonize' {
  import type { Quad } from 'jsonld';
  export function canonize(dataset: Quad[], options: { algorithm: string; format?: string }): Promise<string>;
  export const NQuads: {
    serializeQuadComponents(subject: object, predicate: object, object: object, graph: object): string;
  };
}

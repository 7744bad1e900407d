import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTEXT_URLS, canonizeGeneric, createCanonicalizer, createDocumentLoader } from '../src/index.js';

/**
 * The fast canonicalizer must produce byte-identical N-Quads to jsonld + rdf-canonize for every
 * credential: random text (any Unicode, quotes, backslashes, control characters), optional fields
 * present or absent, valid and invalid IRIs, both credential kinds and proof options.
 */

const documentLoader = createDocumentLoader();
const RUNS = Number(process.env.CANONICAL_RUNS ?? 10_000);

const awkward = fc.constantFrom(
  '"',
  '\\',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u007f',
  '\b\f',
  ' ',
  '',
  'é',
  '\u0928\u093f',
  '😷',
  '\ud800',
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(awkward, fc.string({ maxLength: 4 })), { maxLength: 6 })
      .map((parts) => parts.join('')),
  },
);
const iri = fc.oneof(
  {
    weight: 40,
    arbitrary: fc
      .tuple(fc.constantFrom('did:web:', 'https://', 'urn:uuid:', 'did:in.gov.uidai.aadhaar:'), fc.webSegment())
      .map(([scheme, rest]) => `${scheme}x${rest}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('relative/path', 'has space:x', '_:blank', 'https://a.example/<bad>', 'dv:compact'),
  },
);
const integer = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 1, max: 99 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -3, 1.5, 2 ** 53, 1e21) },
);

const addressRecord = fc.record({
  streetAddress: text,
  streetAddress2: text,
  district: text,
  city: text,
  addressRegion: text,
  addressCountry: text,
  postalCode: text,
});

const subject = fc.record({
  type: fc.constant('Person'),
  id: iri,
  refId: text,
  name: text,
  gender: text,
  age: text,
  dob: text,
  nationality: text,
  address: addressRecord,
});

const place = fc.record({ name: text, address: addressRecord });

const vaccination = fc.record({
  id: iri,
  infoUrl: text,
  feedbackUrl: text,
  certificateId: text,
  type: fc.constant(['Vaccination']),
  batch: text,
  vaccine: text,
  manufacturer: text,
  icd11Code: text,
  prophylaxis: text,
  date: text,
  effectiveStart: text,
  effectiveUntil: text,
  dose: integer,
  totalDoses: integer,
  verifier: fc.record({ name: text }),
  facility: place,
});

const testDetails = fc.record({
  id: iri,
  certificateId: text,
  type: fc.constant(['TestDetails']),
  testName: text,
  testType: text,
  disease: text,
  sampleOrigin: text,
  sampleCollectionTimestamp: text,
  resultTimestamp: text,
  result: text,
  verifier: fc.record({ name: text }),
  facility: place,
});

const contexts = fc.constantFrom(
  [CONTEXT_URLS.credentials, CONTEXT_URLS.divoc],
  [CONTEXT_URLS.credentials, CONTEXT_URLS.divoc, CONTEXT_URLS.ed25519],
);

const envelope = {
  '@context': contexts,
  credentialSubject: subject,
  issuer: iri,
  issuanceDate: text,
};

const fullCredential = fc.oneof(
  fc.record({
    ...envelope,
    type: fc.constant(['VerifiableCredential', 'ProofOfVaccinationCredential']),
    evidence: vaccination.map((evidence) => [evidence]),
    nonTransferable: fc.constantFrom('true', 'false'),
  }),
  fc.record({
    ...envelope,
    type: fc.constant(['VerifiableCredential', 'ProofOfTestCertificateCredential']),
    evidence: testDetails.map((evidence) => [evidence]),
    nonTransferable: fc.constant('true'),
  }),
);

/** Paths of the fields a credential may lack. */
const OPTIONAL: string[][] = [
  ...['gender', 'age', 'dob', 'nationality', 'address'].map((key) => ['credentialSubject', key]),
  ...['streetAddress', 'streetAddress2', 'district', 'city', 'addressRegion', 'addressCountry', 'postalCode'].map(
    (key) => ['credentialSubject', 'address', key],
  ),
  ...[
    'infoUrl',
    'feedbackUrl',
    'batch',
    'manufacturer',
    'icd11Code',
    'prophylaxis',
    'date',
    'testName',
    'verifier',
  ].map((key) => ['evidence', '0', key]),
  ['evidence', '0', 'facility', 'address'],
  ['evidence', '0', 'facility', 'address', 'city'],
  ['evidence', '0', 'facility', 'address', 'streetAddress2'],
];

/**
 * Optional fields come and go in a fixed set of patterns, so shapes repeat as they do in production
 * (where the fast path runs), while every optional field is absent in some of them.
 */
const PATTERNS = Array.from({ length: 32 }, (_, index) =>
  index === 0 ? [] : OPTIONAL.filter((_path, position) => (position * 7 + index * 13) % 5 < 2),
);

const withoutPattern = (document: Record<string, unknown>, index: number) => {
  const copy = structuredClone(document);
  for (const path of PATTERNS[index] as string[][]) {
    let node: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
    if (node) delete node[path[path.length - 1] as string];
  }
  return copy;
};

const credential = fc
  .tuple(fullCredential, fc.integer({ min: 0, max: PATTERNS.length - 1 }))
  .map(([document, index]) => withoutPattern(document, index));

const proofOptions = fc.record({
  '@context': contexts,
  type: fc.constantFrom('RsaSignature2018', 'Ed25519Signature2020'),
  created: text,
  verificationMethod: iri,
  proofPurpose: fc.constant('assertionMethod'),
});

/** The outcome of a canonicalization: its N-Quads, or that it failed. */
const outcome = (promise: Promise<string>) =>
  promise.then(
    (nquads) => ({ nquads }),
    () => ({ failed: true }),
  );

/** Asserts, for `runs` generated documents, that `canonicalizer` gives exactly what rdf-canonize gives. */
const expectSameAsGeneric = (
  canonicalizer: ReturnType<typeof createCanonicalizer>,
  documents: fc.Arbitrary<object>,
  runs: number,
) =>
  fc.assert(
    fc.asyncProperty(documents, async (doc) => {
      const [fast, reference] = await Promise.all([
        outcome(canonicalizer.canonize(doc)),
        outcome(canonizeGeneric(doc, documentLoader)),
      ]);
      expect(fast).toEqual(reference);
    }),
    { numRuns: runs },
  );

describe('fast canonicalization', () => {
  it(`matches rdf-canonize byte for byte on ${RUNS} random credentials and proof options`, async () => {
    const canonicalizer = createCanonicalizer(documentLoader);
    const document = fc.oneof({ weight: 4, arbitrary: credential }, { weight: 1, arbitrary: proofOptions });
    await expectSameAsGeneric(canonicalizer, document, RUNS);
    // The comparison is only meaningful if the fast path did the work: about one document in six is
    // meant to fall back (an invalid IRI or number, a proof type its contexts do not define).
    expect(canonicalizer.stats.fast).toBeGreaterThan(RUNS * 0.7);
  }, 300_000);

  it('merges repeated nodes and triples exactly as rdf-canonize does (equal ids and values)', async () => {
    const canonicalizer = createCanonicalizer(documentLoader);
    const few = fc.constantFrom('a', 'b');
    const sharedIri = fc.constantFrom('https://x.example/1', 'https://x.example/2');
    // Two evidence entries drawn from a handful of values: often the same node, often the same triples.
    const entry = fc.record({
      id: sharedIri,
      type: fc.constant(['Vaccination']),
      batch: few,
      vaccine: few,
      dose: fc.constantFrom(1, 2),
      totalDoses: fc.constant(2),
    });
    const document = fc.record({
      '@context': fc.constant([CONTEXT_URLS.credentials, CONTEXT_URLS.divoc]),
      type: fc.constant(['VerifiableCredential', 'ProofOfVaccinationCredential']),
      credentialSubject: fc.record({ type: fc.constant('Person'), id: sharedIri, name: few }),
      issuer: fc.constant('did:web:divoc.example'),
      issuanceDate: fc.constant('2021-05-10T00:00:00Z'),
      evidence: fc.array(entry, { minLength: 2, maxLength: 2 }),
    });
    await expectSameAsGeneric(canonicalizer, document, 500);
    expect(canonicalizer.stats.fast).toBeGreaterThan(400);
  }, 120_000);
});

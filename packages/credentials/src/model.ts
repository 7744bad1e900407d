import { z } from 'zod';
import { CONTEXT_URLS } from './contexts.js';

/**
 * The credentials this system issues: W3C VC 1.1 in DIVOC's shape, built as typed objects and
 * validated against these schemas before they are signed.
 */

const text = z.string().min(1).max(256);
const optional = z.string().max(256).optional();
const iri = z.string().regex(/^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`]+$/i, 'must be an absolute IRI');

export const PostalAddress = z.object({
  streetAddress: optional,
  streetAddress2: optional,
  district: optional,
  city: optional,
  addressRegion: optional,
  addressCountry: optional,
  postalCode: optional,
});
export type PostalAddress = z.infer<typeof PostalAddress>;

const contexts = z
  .array(z.string())
  .refine(
    (list) => list[0] === CONTEXT_URLS.credentials && list.includes(CONTEXT_URLS.divoc),
    `must start with ${CONTEXT_URLS.credentials} and include ${CONTEXT_URLS.divoc}`,
  );

export const Person = z.object({
  type: z.literal('Person'),
  id: iri,
  refId: text,
  name: text,
  gender: optional,
  age: optional,
  dob: optional,
  nationality: optional,
  address: PostalAddress.optional(),
});
export type Person = z.infer<typeof Person>;

const Named = z.object({ name: text });
const Facility = z.object({ name: text, address: PostalAddress.optional() });

const evidenceCommon = {
  id: iri,
  infoUrl: iri.optional(),
  feedbackUrl: iri.optional(),
  certificateId: text,
  batch: optional,
  manufacturer: optional,
  verifier: Named.optional(),
  facility: Facility,
};

export const VaccinationEvidence = z.object({
  ...evidenceCommon,
  type: z.tuple([z.literal('Vaccination')]),
  vaccine: text,
  icd11Code: optional,
  prophylaxis: optional,
  date: text,
  effectiveStart: text,
  effectiveUntil: text,
  dose: z.number().int().min(1),
  totalDoses: z.number().int().min(1),
});
export type VaccinationEvidence = z.infer<typeof VaccinationEvidence>;

export const TestEvidence = z.object({
  ...evidenceCommon,
  type: z.tuple([z.literal('TestDetails')]),
  testName: optional,
  testType: text,
  disease: text,
  sampleOrigin: optional,
  sampleCollectionTimestamp: text,
  resultTimestamp: text,
  result: text,
});
export type TestEvidence = z.infer<typeof TestEvidence>;

/** The `credentialStatus` entry pointing at the status list bit of this credential. */
export const CredentialStatus = z.object({
  id: iri,
  type: z.string(),
  statusPurpose: z.string(),
  statusListIndex: z.string(),
  statusListCredential: iri,
});
export type CredentialStatus = z.infer<typeof CredentialStatus>;

const envelope = {
  '@context': contexts,
  credentialSubject: Person,
  issuer: iri,
  issuanceDate: z.string(),
  nonTransferable: z.literal('true'),
  credentialStatus: CredentialStatus.optional(),
};

export const VaccinationCredential = z.object({
  ...envelope,
  type: z.tuple([z.literal('VerifiableCredential'), z.literal('ProofOfVaccinationCredential')]),
  evidence: z.tuple([VaccinationEvidence]),
});
export type VaccinationCredential = z.infer<typeof VaccinationCredential>;

export const TestCredential = z.object({
  ...envelope,
  type: z.tuple([z.literal('VerifiableCredential'), z.literal('ProofOfTestCertificateCredential')]),
  evidence: z.tuple([TestEvidence]),
});
export type TestCredential = z.infer<typeof TestCredential>;

export type UnsignedCredential = VaccinationCredential | TestCredential;

/** A linked-data proof as RsaSignature2018 or Ed25519Signature2020 writes it. */
export const Proof = z.object({
  type: z.enum(['RsaSignature2018', 'Ed25519Signature2020']),
  created: z.string(),
  verificationMethod: z.string(),
  proofPurpose: z.literal('assertionMethod'),
  jws: z.string().optional(),
  proofValue: z.string().optional(),
});
export type Proof = z.infer<typeof Proof>;

export type SignedCredential = UnsignedCredential & { proof: Proof };

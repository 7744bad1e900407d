import { z } from 'zod';
import {
  address,
  age,
  calendarDate,
  comorbidities,
  contactList,
  doseNumber,
  meta,
  optionalText,
  pastDate,
  pastDateTime,
  preEnrollmentCode,
  text,
} from './fields.js';

/**
 * The certification payloads of DIVOC's `interfaces/vaccination-api.yaml`, with the rules DIVOC
 * only half-enforced made explicit. Unknown properties are dropped (as go-swagger did), so an
 * existing integration that sends extra fields keeps working.
 */

const person = { name: text(200), identity: text(128) };

const vaccination = z
  .object({
    name: text(100),
    batch: optionalText(64),
    manufacturer: text(200),
    date: pastDateTime,
    effectiveStart: calendarDate,
    effectiveUntil: calendarDate,
    dose: doseNumber,
    totalDoses: doseNumber,
  })
  .superRefine((value, ctx) => {
    if (value.dose > value.totalDoses) {
      ctx.addIssue({
        code: 'custom',
        path: ['dose'],
        message: `must not be greater than totalDoses (${value.totalDoses}); encode a booster as dose n of n`,
      });
    }
    if (value.effectiveStart > value.effectiveUntil) {
      ctx.addIssue({
        code: 'custom',
        path: ['effectiveUntil'],
        message: 'must not be before effectiveStart',
      });
    }
  });

const named = z.object({ name: text(200) });

/** DIVOC computes age from dob and refuses neither; a certificate needs at least one. */
const requireAgeOrDob = (
  recipient: { age?: string | undefined; dob?: string | null | undefined },
  ctx: z.RefinementCtx,
) => {
  if (recipient.age === undefined && (recipient.dob === undefined || recipient.dob === null)) {
    ctx.addIssue({ code: 'custom', path: ['dob'], message: 'either dob or age is required' });
  }
};

const recipientV1 = z
  .object({
    ...person,
    dob: pastDate.nullish(),
    age: age.optional(),
    gender: text(32),
    nationality: text(64),
    contact: contactList,
    address: address({ pincodeRequired: false }),
  })
  .superRefine(requireAgeOrDob);

const recipientV2 = z
  .object({
    ...person,
    dob: pastDate.nullish(),
    age: age.optional(),
    gender: text(32).optional(),
    nationality: text(64),
    contact: contactList,
    address: address({ pincodeRequired: false }).optional(),
  })
  .superRefine(requireAgeOrDob);

/** `CertificationRequest`: POST /divoc/api/v1/certify and PUT /divoc/api/v1/certificate. */
export const CertificationRequest = z.object({
  preEnrollmentCode,
  enrollmentType: text(32).optional(),
  programId: text(64).optional(),
  comorbidities,
  recipient: recipientV1,
  vaccination,
  vaccinator: named,
  facility: z.object({ name: text(200), address: address({ pincodeRequired: true }) }),
  meta,
});
export type CertificationRequest = z.infer<typeof CertificationRequest>;

/** `CertificationRequestV2` (WHO DDCC): POST /divoc/api/v3/certify and PUT /divoc/api/v3/certificate. */
export const CertificationRequestV2 = z.object({
  preEnrollmentCode,
  enrollmentType: text(32).optional(),
  programId: text(64).optional(),
  comorbidities,
  recipient: recipientV2,
  vaccination,
  vaccinator: named.optional(),
  facility: z.object({ name: text(200), address: address({ pincodeRequired: true }).optional() }),
  meta,
});
export type CertificationRequestV2 = z.infer<typeof CertificationRequestV2>;

export const TEST_RESULTS = ['Positive', 'Negative', 'Inconclusive', 'Void'] as const;

/** `TestCertificationRequest`: POST /divoc/api/v1/test/certify. */
export const TestCertificationRequest = z.object({
  preEnrollmentCode,
  programId: text(64).optional(),
  recipient: z.object({
    ...person,
    dob: pastDate,
    gender: text(32),
    nationality: text(64).optional(),
    contact: contactList,
    address: address({ pincodeRequired: false }).optional(),
  }),
  testDetails: z
    .object({
      testName: optionalText(200),
      testType: text(100),
      disease: text(100),
      batch: optionalText(64),
      manufacturer: optionalText(200),
      sampleOrigin: optionalText(100),
      sampleCollectionTimestamp: pastDateTime,
      resultTimestamp: pastDateTime,
      result: z.enum(TEST_RESULTS, { error: `must be one of ${TEST_RESULTS.join(', ')}` }),
    })
    .superRefine((value, ctx) => {
      if (Date.parse(value.resultTimestamp) < Date.parse(value.sampleCollectionTimestamp)) {
        ctx.addIssue({
          code: 'custom',
          path: ['resultTimestamp'],
          message: 'must not be before sampleCollectionTimestamp',
        });
      }
    }),
  verifier: named.optional(),
  facility: z.object({ name: text(200), address: address({ pincodeRequired: true }) }),
  meta,
});
export type TestCertificationRequest = z.infer<typeof TestCertificationRequest>;

/** Which payload an API version carries; the certify event records it so the signer can rebuild. */
export const API_VERSIONS = ['v1', 'v3'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export const requestSchemaFor = {
  vaccination: { v1: CertificationRequest, v3: CertificationRequestV2 },
  test: { v1: TestCertificationRequest, v3: TestCertificationRequest },
} as const;

/** Upper bound on items in one certify/update call; larger imports go through bulk CSV. */
export const MAX_BATCH_ITEMS = 1000;

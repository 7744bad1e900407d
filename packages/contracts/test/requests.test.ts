import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../test-fixtures/index.js';
import {
  CertificationRequest,
  CertificationRequestV2,
  type FieldError,
  TestCertificationRequest,
  validateBatch,
} from '../src/index.js';

const load = (name: string): Record<string, unknown>[] => readJsonFixture('divoc', name);

const v1 = load('certify-v1.json');
const v3 = load('certify-v3-ddcc.json');
const test = load('test-certify.json');

type Json = Record<string, any>;
const clone = <T>(value: T): T => structuredClone(value);

/** A copy of `base` with `edit` applied; the variant is always sent as the 2nd item of a batch. */
const variant = (base: Json, edit: (item: Json) => void): Json[] => {
  const item = clone(base);
  edit(item);
  return [clone(base), item];
};

const expectRejected = (schema: Parameters<typeof validateBatch>[0], batch: unknown, path: string) => {
  const result = validateBatch(schema, batch);
  expect(result.ok).toBe(false);
  const errors = (result as { errors: FieldError[] }).errors;
  expect(errors.every((error) => error.index === 1)).toBe(true);
  expect(errors.map((error) => error.path)).toContain(path);
  for (const error of errors) expect(error.message.length).toBeGreaterThan(3);
};

const FUTURE = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
const FUTURE_DAY = FUTURE.slice(0, 10);

describe('DIVOC fixtures', () => {
  it('accepts the v1 certify request', () => {
    expect(validateBatch(CertificationRequest, v1)).toMatchObject({ ok: true });
  });
  it('accepts both items of the v3 DDCC request', () => {
    const result = validateBatch(CertificationRequestV2, v3);
    expect(result.ok && result.items.map((item) => item.vaccination.dose)).toEqual([1, 2]);
  });
  it('accepts the test certify request', () => {
    expect(validateBatch(TestCertificationRequest, test)).toMatchObject({ ok: true });
  });
  it('keeps meta and drops unknown fields, as go-swagger did', () => {
    const item = { ...clone(v3[0]), surprise: 1, meta: { source: 'x' } } as Json;
    const result = validateBatch(CertificationRequestV2, [item]);
    expect(result.ok && result.items[0]).toMatchObject({ meta: { source: 'x' } });
    expect(result.ok && 'surprise' in (result.items[0] as object)).toBe(false);
  });
});

const base3 = v3[0] as Json;
const base1 = v1[0] as Json;
const baseTest = test[0] as Json;

// [description, schema, base, edit, expected path]
const invalid: [string, any, Json, (item: Json) => void, string][] = [
  ['missing dose', CertificationRequestV2, base3, (i) => delete i.vaccination.dose, 'vaccination.dose'],
  ['zero dose', CertificationRequestV2, base3, (i) => (i.vaccination.dose = 0), 'vaccination.dose'],
  ['negative dose', CertificationRequest, base1, (i) => (i.vaccination.dose = -1), 'vaccination.dose'],
  ['fractional dose', CertificationRequestV2, base3, (i) => (i.vaccination.dose = 1.5), 'vaccination.dose'],
  ['dose as a string', CertificationRequestV2, base3, (i) => (i.vaccination.dose = '1'), 'vaccination.dose'],
  ['dose > totalDoses', CertificationRequestV2, base3, (i) => (i.vaccination.dose = 3), 'vaccination.dose'],
  ['zero totalDoses', CertificationRequest, base1, (i) => (i.vaccination.totalDoses = 0), 'vaccination.totalDoses'],
  [
    'impossible vaccination date',
    CertificationRequestV2,
    base3,
    (i) => (i.vaccination.date = '2021-02-30T10:00:00Z'),
    'vaccination.date',
  ],
  [
    'vaccination date without time',
    CertificationRequestV2,
    base3,
    (i) => (i.vaccination.date = '2021-05-10'),
    'vaccination.date',
  ],
  [
    'vaccination date in the future',
    CertificationRequestV2,
    base3,
    (i) => (i.vaccination.date = FUTURE),
    'vaccination.date',
  ],
  [
    'vaccination date not a date',
    CertificationRequest,
    base1,
    (i) => (i.vaccination.date = 'yesterday'),
    'vaccination.date',
  ],
  [
    'effectiveUntil before effectiveStart',
    CertificationRequestV2,
    base3,
    (i) => (i.vaccination.effectiveUntil = '2020-01-01'),
    'vaccination.effectiveUntil',
  ],
  [
    'bad effectiveStart',
    CertificationRequest,
    base1,
    (i) => (i.vaccination.effectiveStart = '02-12-2020'),
    'vaccination.effectiveStart',
  ],
  ['dob in the future', CertificationRequestV2, base3, (i) => (i.recipient.dob = FUTURE_DAY), 'recipient.dob'],
  ['dob before 1900', CertificationRequestV2, base3, (i) => (i.recipient.dob = '1850-01-01'), 'recipient.dob'],
  ['dob on 31 April', CertificationRequest, base1, (i) => (i.recipient.dob = '1994-04-31'), 'recipient.dob'],
  [
    'non-numeric age',
    CertificationRequestV2,
    base3,
    (i) => {
      delete i.recipient.dob;
      i.recipient.age = 'thirty';
    },
    'recipient.age',
  ],
  [
    'age as a number',
    CertificationRequestV2,
    base3,
    (i) => {
      i.recipient.age = 33;
    },
    'recipient.age',
  ],
  ['neither age nor dob', CertificationRequestV2, base3, (i) => delete i.recipient.dob, 'recipient.dob'],
  ['no contact', CertificationRequestV2, base3, (i) => (i.recipient.contact = []), 'recipient.contact'],
  ['contact missing', CertificationRequest, base1, (i) => delete i.recipient.contact, 'recipient.contact'],
  [
    'contact not a tel or mailto URI',
    CertificationRequestV2,
    base3,
    (i) => (i.recipient.contact = ['9000012345']),
    'recipient.contact[0]',
  ],
  [
    'contact as a string',
    CertificationRequestV2,
    base3,
    (i) => (i.recipient.contact = 'tel:9000012345'),
    'recipient.contact',
  ],
  ['missing preEnrollmentCode', CertificationRequestV2, base3, (i) => delete i.preEnrollmentCode, 'preEnrollmentCode'],
  [
    'preEnrollmentCode with a slash',
    CertificationRequestV2,
    base3,
    (i) => (i.preEnrollmentCode = 'a/b'),
    'preEnrollmentCode',
  ],
  [
    'preEnrollmentCode as a number',
    CertificationRequest,
    base1,
    (i) => (i.preEnrollmentCode = 1112),
    'preEnrollmentCode',
  ],
  ['oversized name', CertificationRequestV2, base3, (i) => (i.recipient.name = 'x'.repeat(201)), 'recipient.name'],
  ['empty name', CertificationRequest, base1, (i) => (i.recipient.name = ''), 'recipient.name'],
  [
    'name with a control character',
    CertificationRequestV2,
    base3,
    (i) => (i.recipient.name = 'A\u0000B'),
    'recipient.name',
  ],
  [
    'oversized batch number',
    CertificationRequestV2,
    base3,
    (i) => (i.vaccination.batch = 'B'.repeat(65)),
    'vaccination.batch',
  ],
  ['missing vaccine name', CertificationRequestV2, base3, (i) => delete i.vaccination.name, 'vaccination.name'],
  ['recipient not an object', CertificationRequestV2, base3, (i) => (i.recipient = 'Ananya'), 'recipient'],
  ['v1 without vaccinator', CertificationRequest, base1, (i) => delete i.vaccinator, 'vaccinator'],
  ['v1 without gender', CertificationRequest, base1, (i) => delete i.recipient.gender, 'recipient.gender'],
  ['v1 facility without address', CertificationRequest, base1, (i) => delete i.facility.address, 'facility.address'],
  [
    'facility pincode empty',
    CertificationRequest,
    base1,
    (i) => (i.facility.address.pincode = ''),
    'facility.address.pincode',
  ],
  ['identity missing', CertificationRequestV2, base3, (i) => delete i.recipient.identity, 'recipient.identity'],
  ['comorbidities not an array', CertificationRequestV2, base3, (i) => (i.comorbidities = 'diabetes'), 'comorbidities'],
  ['meta too large', CertificationRequestV2, base3, (i) => (i.meta = { blob: 'x'.repeat(5000) }), 'meta'],
  [
    'test result not in the list',
    TestCertificationRequest,
    baseTest,
    (i) => (i.testDetails.result = 'Maybe'),
    'testDetails.result',
  ],
  ['test without dob', TestCertificationRequest, baseTest, (i) => delete i.recipient.dob, 'recipient.dob'],
  [
    'test result before the sample',
    TestCertificationRequest,
    baseTest,
    (i) => (i.testDetails.resultTimestamp = '2021-05-01T00:00:00Z'),
    'testDetails.resultTimestamp',
  ],
  [
    'test sample in the future',
    TestCertificationRequest,
    baseTest,
    (i) => (i.testDetails.sampleCollectionTimestamp = FUTURE),
    'testDetails.sampleCollectionTimestamp',
  ],
  [
    'test without testType',
    TestCertificationRequest,
    baseTest,
    (i) => delete i.testDetails.testType,
    'testDetails.testType',
  ],
];

describe('invalid requests', () => {
  it('covers at least 25 variants', () => expect(invalid.length).toBeGreaterThanOrEqual(25));
  it.each(invalid)('rejects %s, naming item 1 and the field', (_name, schema, base, edit, path) => {
    expectRejected(schema, variant(base, edit), path);
  });
});

describe('batch rules', () => {
  it('lists the errors of every bad item, not just the first', () => {
    const batch = [clone(base3), clone(base3), clone(base3)] as Json[];
    delete (batch[0] as Json).vaccination.dose;
    (batch[2] as Json).recipient.contact = [];
    const result = validateBatch(CertificationRequestV2, batch);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((error) => [error.index, error.path])).toEqual([
      [0, 'vaccination.dose'],
      [2, 'recipient.contact'],
    ]);
  });
  it('rejects a body that is not an array, an empty array and an oversized batch', () => {
    expect(validateBatch(CertificationRequestV2, base3)).toMatchObject({ ok: false });
    expect(validateBatch(CertificationRequestV2, [])).toMatchObject({ ok: false });
    expect(validateBatch(CertificationRequestV2, Array(1001).fill(base3))).toMatchObject({ ok: false });
  });
});

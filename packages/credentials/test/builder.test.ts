import { describe, expect, it } from 'vitest';
import {
  ageAt,
  buildTestCredential,
  buildVaccinationCredential,
  isValidCertificateId,
  newCertificateId,
  subjectId,
  UnknownVaccineError,
} from '../src/index.js';
import { config, ddccRequests, FIXED_ID, FIXED_TIME, testRequests, v1Requests } from './support.js';

const facts = { certificateId: FIXED_ID, issuanceDate: FIXED_TIME };
const ddcc = ddccRequests[1] as (typeof ddccRequests)[number];

describe('vaccination credentials', () => {
  it("carry DIVOC's shape, with the DDCC fields on v3", () => {
    const credential = buildVaccinationCredential(ddcc, 'v3', facts, config);
    expect(credential.type).toEqual(['VerifiableCredential', 'ProofOfVaccinationCredential']);
    expect(credential.credentialSubject).toMatchObject({
      type: 'Person',
      id: 'did:in.gov.uidai.aadhaar:000011112222',
      refId: 'DDCC-2021-000731',
      name: 'Ananya Raghavan',
      dob: '1988-03-14',
    });
    expect(credential.credentialSubject.age).toBeUndefined();
    expect(credential.evidence[0]).toMatchObject({
      id: `https://divoc.example/vaccine/${FIXED_ID}`,
      certificateId: FIXED_ID,
      vaccine: 'Covishield',
      icd11Code: 'XM9QW8',
      prophylaxis: 'COVID-19 vaccine, non-replicating viral vector',
      dose: 2,
      totalDoses: 2,
      batch: '4121Z098',
      verifier: { name: 'Dr. Priya Nair' },
    });
    expect(credential.issuanceDate).toBe('2021-08-09T12:00:00Z');
  });

  it("keep v1 to DIVOC's v1 fields (no dob, no ICD) and accept an unknown vaccine there", () => {
    const credential = buildVaccinationCredential(v1Requests[0] as typeof ddcc, 'v1', facts, config);
    expect(credential.credentialSubject.dob).toBeUndefined();
    expect(credential.evidence[0].icd11Code).toBeUndefined();
    expect(credential.evidence[0].vaccine).toBe('CoVax');
    expect(credential.credentialSubject.age).toBe('26');
  });

  it('refuse an unknown vaccine on v3, naming the etcd key', () => {
    const unknown = { ...ddcc, vaccination: { ...ddcc.vaccination, name: 'Vaxitol' } };
    expect(() => buildVaccinationCredential(unknown, 'v3', facts, config)).toThrow(UnknownVaccineError);
    expect(() => buildVaccinationCredential(unknown, 'v3', facts, config)).toThrow(/VACCINE_ICD/);
  });

  it('carry age on v3 only when there is no date of birth', () => {
    const ageOnly = { ...ddcc, recipient: { ...ddcc.recipient, dob: undefined, age: '41' } };
    expect(buildVaccinationCredential(ageOnly, 'v3', facts, config).credentialSubject).toMatchObject({ age: '41' });
  });

  it('leave out empty optional values and default the facility country', () => {
    const credential = buildVaccinationCredential(ddcc, 'v3', facts, config);
    expect(credential.evidence[0].facility.address).not.toHaveProperty('streetAddress2');
    const noAddress = { ...ddcc, facility: { name: 'Camp' } };
    expect(buildVaccinationCredential(noAddress, 'v3', facts, config).evidence[0].facility).toEqual({
      name: 'Camp',
      address: { addressCountry: 'IN' },
    });
  });
});

describe('test credentials', () => {
  it('carry the test details', () => {
    const credential = buildTestCredential(testRequests[0] as (typeof testRequests)[number], facts, config);
    expect(credential.type[1]).toBe('ProofOfTestCertificateCredential');
    expect(credential.evidence[0]).toMatchObject({ type: ['TestDetails'], testType: 'RT-PCR', result: 'Negative' });
  });
});

describe("subject ids (DIVOC's rules)", () => {
  it('keep URIs, prefix other identities and replace "none" with the code', () => {
    expect(subjectId('did:example:1', 'P1', config)).toBe('did:example:1');
    expect(subjectId('ABC 123', 'P1', config)).toBe('did:india:ABC%20123');
    expect(subjectId('NA', 'P1', config)).toBe('did:india:P1');
  });
  it('compute age in whole years at the event', () => {
    expect(ageAt('1988-03-14', '2021-03-13T23:00:00Z')).toBe('32');
    expect(ageAt('1988-03-14', '2021-03-14T00:00:00Z')).toBe('33');
  });
});

describe('certificate ids', () => {
  it('are 21 characters, unique and carry a valid check character', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newCertificateId()));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 100)) {
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{21}$/);
      expect(isValidCertificateId(id)).toBe(true);
    }
  });
  it('catch every single-character typo', () => {
    const id = newCertificateId();
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let position = 0; position < id.length; position++) {
      for (const char of alphabet) {
        if (char === id[position]) continue;
        const typo = id.slice(0, position) + char + id.slice(position + 1);
        expect(isValidCertificateId(typo), typo).toBe(false);
      }
    }
  });
  it('read ids the way people type them', () => {
    const id = newCertificateId();
    expect(isValidCertificateId(`${id.slice(0, 7)}-${id.slice(7, 14)} ${id.slice(14)}`.toLowerCase())).toBe(true);
  });
});

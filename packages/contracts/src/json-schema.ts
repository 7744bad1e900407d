import { z } from 'zod';
import { ErrorEnvelope } from './errors.js';
import {
  CertifiedEvent,
  CertifyAckEvent,
  CertifyEvent,
  DeadLetter,
  NotifyEvent,
  RevokeCertEvent,
  RevokedEvent,
} from './events.js';
import { CertificationRequest, CertificationRequestV2, TestCertificationRequest } from './requests.js';
import { RevokeQuery } from './revoke.js';

/** Every contract that is published as a JSON Schema document (for integrators and OpenAPI). */
export const PUBLISHED_SCHEMAS = {
  CertificationRequest,
  CertificationRequestV2,
  TestCertificationRequest,
  RevokeQuery,
  ErrorEnvelope,
  CertifyEvent,
  CertifyAckEvent,
  CertifiedEvent,
  RevokeCertEvent,
  RevokedEvent,
  NotifyEvent,
  DeadLetter,
} as const;

/**
 * JSON Schema (draft 2020-12) of one contract, describing what a client sends (`io: input`).
 * Rules that JSON Schema cannot say (dose ≤ totalDoses, dates not in the future) stay in zod
 * and are listed in the schema's description.
 */
export const toJsonSchema = (name: keyof typeof PUBLISHED_SCHEMAS): Record<string, unknown> => ({
  $id: `https://divoc-ts.org/schemas/${name}.json`,
  title: name,
  ...z.toJSONSchema(PUBLISHED_SCHEMAS[name], {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }),
});

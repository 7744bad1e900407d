import {
  type ApiVersion,
  CertificationRequest,
  CertificationRequestV2,
  type FieldError,
  findVaccine,
  MAX_BATCH_ITEMS,
  TestCertificationRequest,
  type VaccineIcdConfig,
} from '@divoc/contracts';
import { type HttpApp, unprocessable } from '@divoc/platform';
import { z } from 'zod';
import type { Acceptor } from '../accept.js';
import { AcceptedBatchSchema, errorResponses, IdempotencyHeaders } from './schemas.js';

const batchOf = <S extends z.ZodType>(item: S) =>
  z
    .array(item)
    .min(1, 'must contain at least one request')
    .max(MAX_BATCH_ITEMS, `must contain at most ${MAX_BATCH_ITEMS} requests; use bulkCertify for more`);

/** On the DDCC API the vaccine must map to an ICD-11 code; the error says which etcd key to edit. */
const unknownVaccines = (
  items: readonly { vaccination: { name: string } }[],
  vaccines: VaccineIcdConfig,
): FieldError[] =>
  items.flatMap((item, index) =>
    findVaccine(vaccines, item.vaccination.name) === undefined
      ? [
          {
            index,
            path: 'vaccination.name',
            message: `vaccine "${item.vaccination.name}" is not listed in the etcd key VACCINE_ICD; an operator must add it (or an alias) with its ICD-11 code`,
          },
        ]
      : [],
  );

export interface CertifyRouteDeps {
  acceptor: Acceptor;
  vaccines: () => VaccineIcdConfig;
}

export const registerCertifyRoutes = (app: HttpApp, { acceptor, vaccines }: CertifyRouteDeps): void => {
  const vaccination = (apiVersion: ApiVersion, item: typeof CertificationRequest | typeof CertificationRequestV2) =>
    app.post(
      `/divoc/api/${apiVersion}/certify`,
      {
        schema: {
          summary: `Certify vaccinations (${apiVersion === 'v3' ? 'WHO DDCC payload' : 'DIVOC v1 payload'})`,
          description:
            'Validates the whole batch first (422 lists every error with its item index and field path), records it and queues it for signing. Nothing is queued unless everything is valid.',
          tags: ['certification'],
          security: [{ bearer: [] }],
          headers: IdempotencyHeaders,
          body: batchOf(item),
          response: { 200: AcceptedBatchSchema, ...errorResponses },
        },
      },
      async (request) => {
        const items = request.body as z.infer<typeof CertificationRequest>[];
        if (apiVersion === 'v3') {
          const problems = unknownVaccines(items, vaccines());
          if (problems.length > 0) throw unprocessable('the batch names vaccines this system cannot code', problems);
        }
        return acceptor.accept({
          operation: 'certify',
          kind: 'vaccination',
          apiVersion,
          items: items.map((payload) => ({ payload, dose: payload.vaccination.dose })),
          principal: request.principal as NonNullable<typeof request.principal>,
          idempotencyKey: request.headers['idempotency-key'],
          body: request.body,
        });
      },
    );
  vaccination('v1', CertificationRequest);
  vaccination('v3', CertificationRequestV2);

  app.post(
    '/divoc/api/v1/test/certify',
    {
      schema: {
        summary: 'Certify test results',
        tags: ['certification'],
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: batchOf(TestCertificationRequest),
        response: { 200: AcceptedBatchSchema, ...errorResponses },
      },
    },
    async (request) =>
      acceptor.accept({
        operation: 'certify',
        kind: 'test',
        apiVersion: 'v1',
        items: request.body.map((payload) => ({ payload })),
        principal: request.principal as NonNullable<typeof request.principal>,
        idempotencyKey: request.headers['idempotency-key'],
        body: request.body,
      }),
  );
};

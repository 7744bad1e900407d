import {
  type ApiVersion,
  CertificationRequest,
  CertificationRequestV2,
  ErrorEnvelope,
  type FieldError,
  MAX_BATCH_ITEMS,
} from '@divoc/contracts';
import { type Database, type HttpApp, HttpError } from '@divoc/platform';
import { countUpdates, findActiveCertificate } from '@divoc/store';
import { z } from 'zod';
import type { Acceptor } from '../accept.js';
import { AcceptedBatchSchema, IdempotencyHeaders } from './schemas.js';

export interface UpdateRouteDeps {
  acceptor: Acceptor;
  db: Database;
  /** CERTIFICATE_UPDATE_LIMIT: updates allowed per dose (DIVOC's default 100). */
  updateLimit: number;
}

/**
 * PUT /divoc/api/v{1,3}/certificate: corrects a certificate by issuing a new one for the same dose
 * (same payload as certify). 412 with the reason when a dose has no certificate or its update limit is
 * reached — checked for the whole batch before anything is queued. The signer supersedes the old
 * certificate in the same transaction that stores the new one.
 */
export const registerUpdateRoutes = (app: HttpApp, { acceptor, db, updateLimit }: UpdateRouteDeps): void => {
  const route = (apiVersion: ApiVersion, item: typeof CertificationRequest | typeof CertificationRequestV2) =>
    app.put(
      `/divoc/api/${apiVersion}/certificate`,
      {
        schema: {
          summary: `Update (correct) certificates (${apiVersion === 'v3' ? 'WHO DDCC payload' : 'DIVOC v1 payload'})`,
          tags: ['certification'],
          security: [{ bearer: [] }],
          headers: IdempotencyHeaders,
          body: z.array(item).min(1).max(MAX_BATCH_ITEMS),
          response: {
            200: AcceptedBatchSchema,
            400: ErrorEnvelope,
            401: ErrorEnvelope,
            403: ErrorEnvelope,
            412: ErrorEnvelope,
            422: ErrorEnvelope,
          },
        },
      },
      async (request) => {
        const items = request.body as z.infer<typeof CertificationRequest>[];
        const problems: FieldError[] = [];
        const previous: string[] = [];
        for (const [index, payload] of items.entries()) {
          const slot = {
            preEnrollmentCode: payload.preEnrollmentCode,
            programId: payload.programId,
            kind: 'vaccination' as const,
            slot: String(payload.vaccination.dose),
          };
          // A plain read: a lock outside a transaction protects nothing, and while the signer replaces
          // this dose's certificate a locking read would wait for it and then find neither row.
          const current = await findActiveCertificate(db, slot);
          if (current === undefined) {
            problems.push({
              index,
              path: 'vaccination.dose',
              message: `no certificate exists for dose ${payload.vaccination.dose}; certify it first`,
            });
          } else if ((await countUpdates(db, slot)) >= updateLimit) {
            problems.push({
              index,
              path: 'vaccination.dose',
              message: `the update limit (${updateLimit}) for this dose has been reached`,
            });
          } else {
            previous[index] = current.certificateId;
          }
        }
        if (problems.length > 0)
          throw new HttpError(412, 'UPDATE_NOT_ALLOWED', 'some certificates cannot be updated', problems);
        return acceptor.accept({
          operation: 'update',
          kind: 'vaccination',
          apiVersion,
          items: items.map((payload, index) => ({
            payload,
            dose: payload.vaccination.dose,
            previousCertificateId: previous[index],
          })),
          principal: request.principal as NonNullable<typeof request.principal>,
          idempotencyKey: request.headers['idempotency-key'],
          body: request.body,
        });
      },
    );
  route('v1', CertificationRequest);
  route('v3', CertificationRequestV2);
};

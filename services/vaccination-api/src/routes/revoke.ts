import {
  checkRevocableDoses,
  ErrorEnvelope,
  preEnrollmentCode,
  type RevokeCertEvent,
  RevokeQuery,
  TOPICS,
} from '@divoc/contracts';
import { badRequest, type Database, type HttpApp, notFound, uuidv7 } from '@divoc/platform';
import { activeDoses } from '@divoc/store';
import { z } from 'zod';
import type { EventPublisher } from '../accept.js';

/**
 * DELETE /divoc/api/v1/certificates/{preEnrollmentCode}?doses=1&doses=2 | ?allDoses=true — DIVOC's
 * rules: the doses must be consecutive and include the highest issued dose (400), and something must
 * match (404). The revocation is queued on `revoke_cert` and applied by revocation-service.
 */
export const registerRevokeRoute = (
  app: HttpApp,
  { db, publisher }: { db: Database; publisher: EventPublisher },
): void => {
  app.delete(
    '/divoc/api/v1/certificates/:preEnrollmentCode',
    {
      schema: {
        summary: 'Revoke the certificates of some doses (or all) of a beneficiary',
        tags: ['certification'],
        security: [{ bearer: [] }],
        params: z.object({ preEnrollmentCode }),
        querystring: RevokeQuery,
        response: {
          200: z.object({ requestId: z.string(), preEnrollmentCode: z.string(), doses: z.array(z.number().int()) }),
          400: ErrorEnvelope,
          401: ErrorEnvelope,
          403: ErrorEnvelope,
          404: ErrorEnvelope,
        },
      },
    },
    async (request) => {
      const code = request.params.preEnrollmentCode;
      const issued = await activeDoses(db, code);
      if (issued.length === 0) throw notFound(`no certificates for ${code}`);
      const { doses, allDoses, reason } = request.query;
      let matching = issued;
      if (allDoses !== true) {
        const problem = checkRevocableDoses(doses ?? [], issued);
        if (problem !== undefined) throw badRequest(problem);
        matching = issued.filter((dose) => (doses ?? []).includes(dose));
        if (matching.length === 0) throw notFound(`no certificates for ${code} with those doses`);
      }
      const principal = request.principal as NonNullable<typeof request.principal>;
      const event: RevokeCertEvent = {
        requestId: uuidv7(),
        preEnrollmentCode: code,
        ...(allDoses === true ? { allDoses: true } : { doses: matching }),
        reason: reason ?? `revoked by ${principal.actor}`,
        actor: principal.actor,
        requestedAt: new Date().toISOString(),
      };
      await publisher.publish([{ topic: TOPICS.revokeCert, key: code, value: JSON.stringify(event) }]);
      return { requestId: event.requestId, preEnrollmentCode: code, doses: matching };
    },
  );
};

import { ErrorEnvelope } from '@divoc/contracts';
import { type Database, type HttpApp, notFound } from '@divoc/platform';
import { findRequest } from '@divoc/store';
import { z } from 'zod';

const RequestStatus = z.object({
  requestId: z.string(),
  status: z.enum(['accepted', 'issued', 'duplicate', 'failed']),
  operation: z.enum(['certify', 'update']),
  kind: z.enum(['vaccination', 'test']),
  preEnrollmentCode: z.string(),
  dose: z.number().int().optional(),
  certificateId: z.string().optional(),
  error: z.string().optional(),
  receivedAt: z.string(),
  updatedAt: z.string(),
});

/** Roles that may read any request; everyone else reads only the requests they made. */
const READ_ANY = ['api', 'admin'];

export const registerRequestRoutes = (app: HttpApp, { db }: { db: Database }): void => {
  app.get(
    '/divoc/api/v1/requests/:requestId',
    {
      schema: {
        summary: 'Status of a certify or update request',
        description: 'accepted → issued (with certificateId) | duplicate | failed (with the reason).',
        tags: ['certification'],
        security: [{ bearer: [] }],
        params: z.object({ requestId: z.string().min(1).max(64) }),
        response: { 200: RequestStatus, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope },
      },
    },
    async (request) => {
      const principal = request.principal as NonNullable<typeof request.principal>;
      const row = await findRequest(db, request.params.requestId);
      const mayRead =
        row !== undefined && (row.actor === principal.actor || READ_ANY.some((role) => principal.roles.has(role)));
      // Someone else's request reads as unknown, so request ids do not leak.
      if (!mayRead) throw notFound(`no request ${request.params.requestId}`);
      return {
        requestId: row.requestId,
        status: row.status,
        operation: row.operation,
        kind: row.kind,
        preEnrollmentCode: row.preEnrollmentCode,
        ...(row.dose === null ? {} : { dose: row.dose }),
        ...(row.certificateId === null ? {} : { certificateId: row.certificateId }),
        ...(row.error === null ? {} : { error: row.error }),
        receivedAt: row.receivedAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
      };
    },
  );
};

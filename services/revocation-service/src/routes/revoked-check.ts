import { ErrorEnvelope } from '@divoc/contracts';
import { type TrustedKey, verifyCredential } from '@divoc/credentials';
import { type Cache, type Database, type HttpApp, HttpError, type Logger, notFound, rateLimit } from '@divoc/platform';
import { findRevocation } from '@divoc/store';
import { z } from 'zod';

/**
 * POST /divoc/api/v1/certificate/revoked — DIVOC's public check: 200 when the certificate is revoked
 * (or superseded), 404 when it is not. Unlike DIVOC, the credential's signature is verified first
 * (400 for an invalid credential) and the certificate is looked up by its id, so tampered fields
 * cannot dodge the check.
 */
export const registerRevokedCheckRoute = (
  app: HttpApp,
  deps: { db: Database; cache: Cache; logger: Logger; trustedKeys: () => readonly TrustedKey[] },
): void => {
  app.post(
    '/divoc/api/v1/certificate/revoked',
    {
      onRequest: rateLimit({
        cache: deps.cache,
        limit: 120,
        windowSeconds: 60,
        name: 'revoked-check',
        logger: deps.logger,
      }),
      schema: {
        summary: 'Is this signed certificate revoked? 200 revoked, 404 not revoked, 400 not a valid certificate',
        tags: ['revocation'],
        body: z.record(z.string(), z.unknown()),
        response: {
          200: z.object({
            revoked: z.literal(true),
            certificateId: z.string(),
            reason: z.string(),
            revokedAt: z.string(),
            replacedBy: z.string().optional(),
          }),
          400: ErrorEnvelope,
          404: ErrorEnvelope,
          429: ErrorEnvelope,
        },
      },
    },
    async (request) => {
      const result = await verifyCredential(request.body, { trustedKeys: deps.trustedKeys() });
      if (!result.valid)
        throw new HttpError(400, 'INVALID_CREDENTIAL', `not a valid certificate: ${result.reason}: ${result.message}`);
      const certificateId = (request.body as { evidence?: { certificateId?: unknown }[] }).evidence?.[0]?.certificateId;
      if (typeof certificateId !== 'string')
        throw new HttpError(400, 'INVALID_CREDENTIAL', 'the certificate has no evidence[0].certificateId');
      const revocation = await findRevocation(deps.db, certificateId);
      if (revocation === undefined) throw notFound(`certificate ${certificateId} is not revoked`);
      return {
        revoked: true as const,
        certificateId,
        reason: revocation.reason,
        revokedAt: revocation.revokedAt.toISOString(),
        ...(revocation.replacedBy ? { replacedBy: revocation.replacedBy } : {}),
      };
    },
  );
};

import { ErrorEnvelope } from '@divoc/contracts';
import {
  controllerDocument,
  decodeCredentialQr,
  QrDecodeError,
  type TrustedKey,
  unzipCredential,
  verifyCredential,
} from '@divoc/credentials';
import { type Cache, type Database, type HttpApp, type Logger, rateLimit } from '@divoc/platform';
import { findRevocation } from '@divoc/store';
import { z } from 'zod';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const VerificationResult = z.object({
  valid: z.boolean(),
  status: z.enum(['valid', 'invalid', 'revoked']),
  reason: z.enum(['malformed', 'unknown-context', 'unknown-key', 'bad-signature', 'revoked']).optional(),
  message: z.string().optional(),
  issuer: z.string().optional(),
  certificate: z
    .object({ certificateId: z.string().optional(), name: z.string().optional(), type: z.array(z.string()).optional() })
    .optional(),
});

export interface VerifyDeps {
  /** Where revocations are recorded (by revocation-service): a genuine but revoked certificate is not valid. */
  db: Database;
  trustedKeys: () => readonly TrustedKey[];
  issuer: string;
  cache: Cache;
  logger: Logger;
}

/** What a verifier shows next to the verdict; the rest of the credential stays with its holder. */
const summary = (credential: {
  evidence?: { certificateId?: string }[];
  credentialSubject?: { name?: string };
  type?: string[];
}) => ({
  certificateId: credential.evidence?.[0]?.certificateId,
  name: credential.credentialSubject?.name,
  type: credential.type,
});

/**
 * Verification for scanners and integrators: a QR image (PNG), the raw QR payload (zip bytes) or the
 * credential JSON → valid, invalid with the reason, or revoked (superseded by an update or revoked; the
 * signature is checked first, so a tampered copy cannot pose as revoked or dodge it). Public and rate
 * limited; the issuer's keys are published at /.well-known/did.json and the status lists by revocation-service,
 * so verifiers can do the same offline.
 */
export const registerVerifyRoutes = (app: HttpApp, deps: VerifyDeps): void => {
  app.addContentTypeParser(
    ['image/png', 'application/octet-stream', 'application/zip'],
    { parseAs: 'buffer', bodyLimit: 4 * 1024 * 1024 },
    (_request, body, done) => done(null, body),
  );
  const limited = rateLimit({ cache: deps.cache, limit: 120, windowSeconds: 60, name: 'verify', logger: deps.logger });

  app.post(
    '/certificate/api/verify',
    {
      onRequest: limited,
      schema: {
        summary:
          'Verify a certificate: QR image (image/png), QR payload (application/octet-stream) or credential (application/json)',
        tags: ['verification'],
        body: z.unknown(),
        response: { 200: VerificationResult, 400: ErrorEnvelope, 429: ErrorEnvelope },
      },
    },
    async (request) => {
      let credential: unknown;
      if (Buffer.isBuffer(request.body)) {
        try {
          const bytes = request.body;
          credential = bytes.subarray(0, 8).equals(PNG_SIGNATURE)
            ? await decodeCredentialQr(bytes)
            : await unzipCredential(bytes);
        } catch (error) {
          if (!(error instanceof QrDecodeError)) throw error;
          return { valid: false, status: 'invalid' as const, reason: 'malformed' as const, message: error.message };
        }
      } else {
        credential = request.body;
      }
      const result = await verifyCredential(credential, { trustedKeys: deps.trustedKeys() });
      if (!result.valid)
        return { valid: false, status: 'invalid' as const, reason: result.reason, message: result.message };
      const certificate = summary(credential as Parameters<typeof summary>[0]);
      const revocation =
        certificate.certificateId === undefined ? undefined : await findRevocation(deps.db, certificate.certificateId);
      if (revocation !== undefined) {
        const replaced = revocation.replacedBy ? `; replaced by certificate ${revocation.replacedBy}` : '';
        return {
          valid: false,
          status: 'revoked' as const,
          reason: 'revoked' as const,
          message: `revoked on ${revocation.revokedAt.toISOString()} (${revocation.reason})${replaced}`,
          issuer: result.issuer,
          certificate,
        };
      }
      return { valid: true, status: 'valid' as const, issuer: result.issuer, certificate };
    },
  );

  app.get(
    '/.well-known/did.json',
    {
      onRequest: limited,
      schema: { summary: "The issuer's DID document: the keys that sign certificates", tags: ['verification'] },
    },
    async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(controllerDocument(deps.issuer, deps.trustedKeys())),
  );
};

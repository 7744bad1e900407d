import { ErrorEnvelope } from '@divoc/contracts';
import { z } from 'zod';

export const AcceptedBatchSchema = z
  .object({
    requests: z.array(
      z.object({ requestId: z.string(), preEnrollmentCode: z.string(), dose: z.number().int().optional() }),
    ),
  })
  .meta({
    description: 'One request id per item, in order; poll GET /divoc/api/v1/requests/{requestId} for the outcome.',
  });

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(200).optional().meta({
    description: 'Sending the same key (and body) again returns the first answer instead of a second request.',
  }),
});

/** The error answers every protected route can give. */
export const errorResponses = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  422: ErrorEnvelope,
} as const;

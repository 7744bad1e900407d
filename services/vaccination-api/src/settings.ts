import { envPort, InfrastructureEnv } from '@divoc/platform';
import { z } from 'zod';

/** Every variable vaccination-api reads (parsed once at start; a bad value stops it, naming the variable). */
export const VaccinationApiEnv = InfrastructureEnv.extend({
  PORT: envPort(8000),
  /** Updates allowed per dose (DIVOC's CERTIFICATE_UPDATE_LIMIT). */
  CERTIFICATE_UPDATE_LIMIT: z.coerce.number().int().min(0).default(100),
  /** The largest bulk CSV upload accepted, in bytes (default 50 MiB); a larger one is refused with 400. */
  BULK_UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024),
  /** Days the cells (personal data) of failed bulk rows are kept; row numbers and reasons stay (default 30). */
  BULK_ERROR_RETENTION_DAYS: z.coerce.number().min(0).default(30),
});
export type VaccinationApiEnv = z.infer<typeof VaccinationApiEnv>;

import { z } from 'zod';
import { preEnrollmentCode } from './fields.js';

const doseList = z
  .array(z.coerce.number().int('must be whole numbers').min(1, 'must be at least 1').max(99, 'must be at most 99'))
  .min(1, 'must contain at least one dose');

/**
 * DELETE /divoc/api/v1/certificates/{preEnrollmentCode}?doses=1&doses=2 | ?allDoses=true.
 * The query arrives as strings (a single `doses` may arrive as a scalar); both are normalised here.
 */
export const RevokeQuery = z
  .object({
    doses: z.preprocess(
      (value) => (value === undefined || Array.isArray(value) ? value : [value]),
      doseList.optional(),
    ),
    allDoses: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((value) => value === 'true')
      .optional(),
    /** Why (kept in the revocation record); DIVOC had no reason, so it is optional. */
    reason: z.string().min(1).max(500).optional(),
  })
  .superRefine((value, ctx) => {
    const hasDoses = value.doses !== undefined && value.doses.length > 0;
    if (!hasDoses && value.allDoses !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['doses'],
        message: 'give doses=<n> (repeatable) or allDoses=true',
      });
    }
    if (hasDoses && value.allDoses === true) {
      ctx.addIssue({
        code: 'custom',
        path: ['allDoses'],
        message: 'give either doses or allDoses=true, not both',
      });
    }
  });
export type RevokeQuery = z.infer<typeof RevokeQuery>;

export const RevokePath = z.object({ preEnrollmentCode });

/** Sorted, consecutive, and ending at the highest issued dose: DIVOC's revocation rule. */
export const checkRevocableDoses = (requested: readonly number[], issued: readonly number[]): string | undefined => {
  const doses = [...new Set(requested)].sort((a, b) => a - b);
  for (let i = 1; i < doses.length; i++) {
    if (doses[i] !== (doses[i - 1] as number) + 1) return 'doses must be consecutive (for example 2&doses=3)';
  }
  const highest = Math.max(...issued);
  if (!doses.includes(highest)) return `doses must include the highest issued dose (${highest})`;
  return undefined;
};

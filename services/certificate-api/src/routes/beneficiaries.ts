import { calendarDate, ErrorEnvelope, mobileKey } from '@divoc/contracts';
import type { Database, HttpApp } from '@divoc/platform';
import { findBeneficiariesByMobile } from '@divoc/store';
import { z } from 'zod';

/** The print desk's search: beneficiaries with this mobile number and date of birth. */
export const registerBeneficiaryRoutes = (app: HttpApp, { db }: { db: Database }): void => {
  app.get(
    '/certificate/api/beneficiaries',
    {
      schema: {
        summary: 'Print desk: find beneficiaries by mobile number and date of birth',
        tags: ['print desk'],
        security: [{ bearer: [] }],
        querystring: z.object({
          phoneno: z.string().regex(/^\+?[\d\s-]{6,20}$/, 'must be a phone number'),
          dob: calendarDate,
        }),
        response: {
          200: z.array(
            z.object({
              preEnrollmentCode: z.string(),
              name: z.string(),
              gender: z.string().nullable(),
              dob: z.string().nullable(),
            }),
          ),
          400: ErrorEnvelope,
          401: ErrorEnvelope,
          403: ErrorEnvelope,
        },
      },
    },
    async (request) => findBeneficiariesByMobile(db, mobileKey(request.query.phoneno), request.query.dob),
  );
};

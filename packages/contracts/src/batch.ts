import type { z } from 'zod';
import { type FieldError, toFieldErrors } from './errors.js';
import { MAX_BATCH_ITEMS } from './requests.js';

export type BatchResult<T> = { ok: true; items: T[] } | { ok: false; errors: FieldError[] };

/**
 * Validates a whole certify/update batch before anything is published: either every item is valid,
 * or the caller gets every error of every item (DIVOC published the items before the first bad one).
 */
export const validateBatch = <S extends z.ZodType>(schema: S, body: unknown): BatchResult<z.infer<S>> => {
  if (!Array.isArray(body)) {
    return { ok: false, errors: [{ path: '(root)', message: 'must be a JSON array of requests' }] };
  }
  if (body.length === 0) {
    return { ok: false, errors: [{ path: '(root)', message: 'must contain at least one request' }] };
  }
  if (body.length > MAX_BATCH_ITEMS) {
    return {
      ok: false,
      errors: [
        {
          path: '(root)',
          message: `must contain at most ${MAX_BATCH_ITEMS} requests; use bulkCertify for larger imports`,
        },
      ],
    };
  }
  const items: z.infer<S>[] = [];
  const errors: FieldError[] = [];
  body.forEach((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) items.push(parsed.data);
    else errors.push(...toFieldErrors(parsed.error.issues, index));
  });
  return errors.length === 0 ? { ok: true, items } : { ok: false, errors };
};

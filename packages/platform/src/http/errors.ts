import type { FieldError } from '@divoc/contracts';

/** An error with an HTTP status and a stable machine-readable code; its message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: FieldError[]) =>
  new HttpError(400, 'BAD_REQUEST', message, details);
export const forbidden = (message = 'you are not allowed to do this') => new HttpError(403, 'FORBIDDEN', message);
export const notFound = (message = 'not found') => new HttpError(404, 'NOT_FOUND', message);
export const unprocessable = (message: string, details?: FieldError[]) =>
  new HttpError(422, 'VALIDATION_FAILED', message, details);

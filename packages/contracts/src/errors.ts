import { z } from 'zod';

/** One problem with one field: which batch item, which field path, and what to do about it. */
export const FieldError = z.object({
  index: z.number().int().min(0).optional(),
  path: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

/** Every error body of every service: `{code, message, details?}` (DESIGN §5). Never a stack trace. */
export const ErrorEnvelope = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(FieldError).optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** Renders a zod issue path the way an integrator writes it: `recipient.contact[0]`. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    return out === '' ? name : `${out}.${name}`;
  }, '');

/** Turns zod issues into field errors, keeping the failing batch item's index apart from the path. */
export const toFieldErrors = (issues: readonly z.core.$ZodIssue[], index?: number): FieldError[] =>
  issues.map((issue) => ({
    ...(index === undefined ? {} : { index }),
    path: formatPath(issue.path) || '(root)',
    message: describeIssue(issue),
  }));

const describeIssue = (issue: z.core.$ZodIssue): string => {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
  }
  if (issue.code === 'unrecognized_keys') return `has unknown fields: ${issue.keys.join(', ')}`;
  return issue.message;
};

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

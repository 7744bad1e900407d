import { z } from 'zod';

/**
 * Field building blocks shared by the request schemas. Limits are generous for real data
 * (long South Indian names, multi-line addresses) but bounded, so a payload can never
 * smuggle megabytes into a signed credential or a QR code.
 */

// C0 controls and DEL: never legitimate inside a name, an address or an id.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A required, non-empty, single-line text of at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

/** Optional text that may be empty ("" is what many source systems send for "no value"). */
export const optionalText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .optional();

/** The beneficiary reference printed on the certificate and used in download URLs. */
export const preEnrollmentCode = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"');

const isCalendarDate = (value: string): boolean => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
};

/** Source systems' clocks drift; a timestamp up to this far ahead is still "now". */
export const FUTURE_TOLERANCE_MS = 10 * 60 * 1000;
const EARLIEST_YEAR = 1900;

/** A calendar date `YYYY-MM-DD` (a real day: no 2021-02-30). */
export const calendarDate = z
  .string()
  .refine(isCalendarDate, 'must be a date in the form YYYY-MM-DD')
  .refine((value) => Number(value.slice(0, 4)) >= EARLIEST_YEAR, `must not be before ${EARLIEST_YEAR}`)
  .meta({ format: 'date', description: 'A calendar date YYYY-MM-DD, not before 1900.' });

/** A calendar date that is not in the future (date of birth). */
export const pastDate = calendarDate.refine(
  (value) => Date.parse(`${value}T00:00:00Z`) <= Date.now() + FUTURE_TOLERANCE_MS,
  'must not be in the future',
);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 date-time with an offset (as DIVOC's `format: date-time`). */
export const dateTime = z
  .string()
  .refine(
    (value) => RFC3339.test(value) && isCalendarDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value)),
    'must be an RFC 3339 date-time such as 2021-05-10T09:30:00.000Z',
  )
  .refine((value) => Number(value.slice(0, 4)) >= EARLIEST_YEAR, `must not be before ${EARLIEST_YEAR}`)
  .meta({ format: 'date-time', description: 'An RFC 3339 date-time with an offset, not before 1900.' });

/** A date-time that is not in the future (vaccination, sample collection, result). */
export const pastDateTime = dateTime.refine(
  (value) => Date.parse(value) <= Date.now() + FUTURE_TOLERANCE_MS,
  'must not be in the future',
);

/** Dose numbers: whole numbers from 1 (DIVOC declares `number`, but "dose 1.5" is meaningless). */
export const doseNumber = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(99, 'must be at most 99');

/** Age in years as DIVOC sends it: a string of digits. */
export const age = z
  .string()
  .regex(/^\d{1,3}$/, 'must be a whole number of years, as a string such as "34"')
  .refine((value) => Number(value) <= 150, 'must be at most 150');

const TEL = /^tel:\+?[0-9]{6,15}$/;
const MAILTO = /^mailto:[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/** One contact URI: `tel:<digits>` or `mailto:<address>`. */
export const contactUri = z
  .string()
  .max(254, 'must be at most 254 characters')
  .refine(
    (value) => TEL.test(value) || MAILTO.test(value),
    'must be "tel:<6 to 15 digits>" or "mailto:<email address>"',
  )
  .meta({
    pattern: '^(tel:\\+?[0-9]{6,15}|mailto:.+@.+)$',
    examples: ['tel:9000012345', 'mailto:a@example.org'],
  });

/** At least one way to reach the beneficiary (DIVOC silently required a tel: entry). */
export const contactList = z
  .array(contactUri)
  .min(1, 'must contain at least one "tel:" or "mailto:" entry')
  .max(5, 'must contain at most 5 entries');

/** A postal address in DIVOC's shape. */
export const address = (options: { pincodeRequired: boolean }) =>
  z.object({
    addressLine1: z.string().max(200, 'must be at most 200 characters'),
    addressLine2: optionalText(200),
    district: text(100),
    state: text(100),
    country: z.string().min(2, 'must be at least 2 characters').max(64, 'must be at most 64 characters').optional(),
    pincode: options.pincodeRequired ? text(16) : z.string().max(16, 'must be at most 16 characters'),
  });

/** Free-form metadata DIVOC accepts; bounded so it cannot bloat messages. */
export const meta = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 4096, 'must be at most 4096 bytes of JSON')
  .optional();

export const comorbidities = z.array(text(100)).max(50, 'must contain at most 50 entries').optional();

/**
 * The form in which mobile numbers are stored and compared: the last 10 digits. "tel:9000012345",
 * "+91 90000 12345" and "919000012345" all become "9000012345", so a citizen's token and a print
 * desk's search match the number the source system sent, with or without the country code.
 */
export const mobileKey = (value: string): string => value.replace(/^tel:/, '').replace(/\D/g, '').slice(-10);

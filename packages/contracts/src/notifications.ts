import { z } from 'zod';

/**
 * The etcd value `NOTIFICATION_TEMPLATES` (DIVOC's key and shape: `{ key: { message, subject?, html? } }`)
 * and its placeholder language. Templates are data, never code (DESIGN §10): the only construct is a
 * placeholder naming one field — `{{name}}` or DIVOC's Go-template form `{{.Name}}`, matched without regard
 * to case — no conditionals, loops, pipelines, partials or helpers. An unknown placeholder is a validation
 * error when the value is loaded, so a typo is rejected and the last good value stays in force.
 */

/** The fields a template may print, with what each holds. */
export const NOTIFICATION_FIELDS = {
  name: "the beneficiary's name",
  product: "the vaccine (or test) name; also {{vaccineName}}, {{vaccine}}, DIVOC's {{.VaccineName}}",
  certificateId: 'the certificate id',
  preEnrollmentCode: "the beneficiary's pre-enrolment code; also {{code}}, DIVOC's {{.Code}}",
  programId: 'the vaccination programme',
  dose: 'the dose number',
  totalDoses: 'the doses of the schedule (empty when not known)',
  issuedAt: 'the issue date (YYYY-MM-DD)',
  downloadUrl: 'where the certificate can be downloaded: built by the service from CERTIFICATE_DOWNLOAD_URL',
  reason: 'why the certificate was revoked',
  revokedAt: 'the revocation date (YYYY-MM-DD)',
  facilityName: "DIVOC's facility templates: the facility name",
  admins: "DIVOC's facility templates: the administrators' contact numbers",
  field: "DIVOC's facility templates: the field that was updated",
  value: "DIVOC's facility templates: its new value",
} as const;
export type NotificationField = keyof typeof NOTIFICATION_FIELDS;

const ALIASES: Record<string, NotificationField> = {
  vaccinename: 'product',
  vaccine: 'product',
  code: 'preEnrollmentCode',
};

const FIELD_BY_NAME: ReadonlyMap<string, NotificationField> = new Map([
  ...(Object.keys(NOTIFICATION_FIELDS) as NotificationField[]).map((field) => [field.toLowerCase(), field] as const),
  ...Object.entries(ALIASES),
]);

/** The field a placeholder or data key names (`Name`, `.Name`, `vaccineName` …), or undefined. */
export const notificationField = (name: string): NotificationField | undefined =>
  FIELD_BY_NAME.get(name.replace(/^\./, '').toLowerCase());

/** Fields computed by the service, never taken from an event's or a caller's data. */
export const DERIVED_NOTIFICATION_FIELDS: readonly NotificationField[] = ['downloadUrl'];

/** The template a `certified` event is rendered with (DIVOC's key). */
export const CERTIFIED_TEMPLATE = 'recipientCertified';
/** The template a `revoked` event is rendered with (sent when NOTIFY_ON_REVOKE=true). */
export const REVOKED_TEMPLATE = 'recipientRevoked';

/** What the events behind the event templates carry: those templates may use only these fields. */
export const EVENT_TEMPLATE_FIELDS: Readonly<Record<string, readonly NotificationField[]>> = {
  [CERTIFIED_TEMPLATE]: [
    'name',
    'product',
    'certificateId',
    'preEnrollmentCode',
    'programId',
    'dose',
    'totalDoses',
    'issuedAt',
    'downloadUrl',
  ],
  [REVOKED_TEMPLATE]: ['certificateId', 'preEnrollmentCode', 'dose', 'reason', 'revokedAt'],
};

/**
 * The header of a `notify` message that names its delivery (`notify:<id>` from the notification endpoint,
 * `certified:<certificateId>` on a dead letter of a certified notification). Redeliveries and replays with
 * the same id resume the same delivery-log rows; without it the message's content identifies it.
 */
export const NOTIFICATION_ID_HEADER = 'divoc-notification-id';

/** A parsed template: literal text and the fields between it. */
export type TemplatePart = string | { field: NotificationField };
export interface ParsedTemplate {
  parts: TemplatePart[];
  /** The fields used, each once, in order of first use. */
  fields: NotificationField[];
  /** Why the text is not a valid template (empty = valid). */
  problems: string[];
}

const PLACEHOLDER = /^\.?[A-Za-z][A-Za-z0-9_]*$/;

/** Splits a template into literals and placeholders; every `{{…}}` must be a known field. */
export const parseNotificationTemplate = (text: string): ParsedTemplate => {
  const parts: TemplatePart[] = [];
  const fields: NotificationField[] = [];
  const problems: string[] = [];
  let rest = 0;
  for (const match of text.matchAll(/\{\{([\s\S]*?)\}\}/g)) {
    const inner = (match[1] ?? '').trim();
    if (match.index > rest) parts.push(text.slice(rest, match.index));
    rest = match.index + match[0].length;
    if (!PLACEHOLDER.test(inner)) {
      problems.push(
        `"${match[0].slice(0, 40)}" is not a placeholder: only {{field}} or {{.Field}} is allowed (no code, conditionals or pipelines)`,
      );
      continue;
    }
    const field = notificationField(inner);
    if (field === undefined) {
      problems.push(`unknown placeholder "{{${inner}}}"; known: ${Object.keys(NOTIFICATION_FIELDS).join(', ')}`);
      continue;
    }
    parts.push({ field });
    if (!fields.includes(field)) fields.push(field);
  }
  const tail = text.slice(rest);
  if (tail.includes('{{')) problems.push('"{{" is never closed by "}}"');
  if (tail) parts.push(tail);
  return { parts, fields, problems };
};

/**
 * Fills a parsed template. A field without a value prints as nothing; `escapeValue` is applied to values
 * only (HTML bodies escape them, plain text does not).
 */
export const renderNotificationTemplate = (
  template: ParsedTemplate,
  values: Partial<Record<NotificationField, string>>,
  escapeValue: (value: string) => string = (value) => value,
): string =>
  template.parts.map((part) => (typeof part === 'string' ? part : escapeValue(values[part.field] ?? ''))).join('');

/** One message: the SMS text and email body (`message`), the email subject and an optional HTML body. */
export const NotificationTemplate = z.strictObject({
  message: z.string().min(1, 'must not be empty').max(2_000, 'must be at most 2000 characters'),
  subject: z
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .refine((value) => !/[\r\n]/.test(value), 'must be a single line')
    .optional(),
  html: z.string().min(1, 'must not be empty').max(100_000, 'must be at most 100000 characters').optional(),
});
export type NotificationTemplate = z.infer<typeof NotificationTemplate>;

const TEMPLATE_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** `NOTIFICATION_TEMPLATES`: template key → message; `recipientCertified` must be there. */
export const NotificationTemplates = z
  .record(
    z.string().regex(TEMPLATE_KEY, 'must be a name of letters, digits, "_" or "-" (at most 100)'),
    NotificationTemplate,
  )
  .superRefine((templates, ctx) => {
    if (templates[CERTIFIED_TEMPLATE] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [CERTIFIED_TEMPLATE],
        message: 'is required (the message sent when a certificate is issued)',
      });
    }
    for (const [key, template] of Object.entries(templates)) {
      const available = EVENT_TEMPLATE_FIELDS[key];
      for (const part of ['message', 'subject', 'html'] as const) {
        const text = template[part];
        if (text === undefined) continue;
        const parsed = parseNotificationTemplate(text);
        for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', path: [key, part], message: problem });
        if (!available) continue;
        for (const field of parsed.fields.filter((used) => !available.includes(used))) {
          ctx.addIssue({
            code: 'custom',
            path: [key, part],
            message: `{{${field}}} is not available to "${key}" (it can use: ${available.join(', ')})`,
          });
        }
      }
    }
  });
export type NotificationTemplates = z.infer<typeof NotificationTemplates>;

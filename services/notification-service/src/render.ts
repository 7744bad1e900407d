import {
  DERIVED_NOTIFICATION_FIELDS,
  type NotificationField,
  type NotificationTemplate,
  type NotificationTemplates,
  notificationField,
  type ParsedTemplate,
  parseNotificationTemplate,
  renderNotificationTemplate,
} from '@divoc/contracts';

/** Values a template is filled with (everything a field can print is text). */
export type TemplateValues = Partial<Record<NotificationField, string>>;

export interface RenderedMessage {
  text: string;
  subject: string | undefined;
  html: string | undefined;
}

/** The reason a message cannot be rendered (an operator can fix the configuration and replay it). */
export class RenderError extends Error {}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** One line of printable text: a value can never add lines, headers or terminal escapes to a message. */
export const cleanValue = (value: string | number | undefined): string | undefined =>
  value === undefined ? undefined : String(value).replace(CONTROL, ' ').trim();

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => HTML_ENTITIES[char] ?? char);

/** `CERTIFICATE_DOWNLOAD_URL` may name these, e.g. `https://example.org/certificate/?id={certificateId}`. */
const URL_TOKENS = ['certificateId', 'preEnrollmentCode'] as const;

/** Checks a CERTIFICATE_DOWNLOAD_URL; returns the problem, if any. */
export const checkDownloadUrl = (url: string): string | undefined => {
  for (const match of url.matchAll(/\{([^{}]*)\}/g)) {
    if (!(URL_TOKENS as readonly string[]).includes(match[1] ?? '')) {
      return `may contain only {certificateId} and {preEnrollmentCode}, not {${match[1]}}`;
    }
  }
  try {
    new URL(url.replace(/\{[^{}]*\}/g, 'x'));
  } catch {
    return 'must be a URL';
  }
  return undefined;
};

/** The fields the download URL needs to be built. */
export const downloadUrlNeeds = (url: string): NotificationField[] =>
  URL_TOKENS.filter((token) => url.includes(`{${token}}`));

/** The citizen's link: CERTIFICATE_DOWNLOAD_URL with the certificate's id or code filled in (URL-encoded). */
export const buildDownloadUrl = (url: string, values: TemplateValues): string =>
  url.replace(/\{(certificateId|preEnrollmentCode)\}/g, (_token, name: 'certificateId' | 'preEnrollmentCode') =>
    encodeURIComponent(values[name] ?? ''),
  );

interface ParsedMessage {
  message: ParsedTemplate;
  subject: ParsedTemplate | undefined;
  html: ParsedTemplate | undefined;
}

/**
 * Renders messages from the templates in force. Parsed templates are cached per configuration value,
 * so a change in etcd applies to the next message and costs one parse.
 */
export const createRenderer = (templates: () => NotificationTemplates, downloadUrl: string) => {
  const cache = new WeakMap<NotificationTemplate, ParsedMessage>();
  const parsed = (template: NotificationTemplate): ParsedMessage => {
    let entry = cache.get(template);
    if (!entry) {
      entry = {
        message: parseNotificationTemplate(template.message),
        subject: template.subject === undefined ? undefined : parseNotificationTemplate(template.subject),
        html: template.html === undefined ? undefined : parseNotificationTemplate(template.html),
      };
      cache.set(template, entry);
    }
    return entry;
  };
  return {
    /** The template of a key, or undefined when NOTIFICATION_TEMPLATES has none. */
    template: (key: string): NotificationTemplate | undefined =>
      Object.hasOwn(templates(), key) ? templates()[key] : undefined,
    /** The fields a template prints (to check a caller's data). */
    fieldsOf: (key: string): NotificationField[] => {
      const template = Object.hasOwn(templates(), key) ? templates()[key] : undefined;
      if (!template) return [];
      const { message, subject, html } = parsed(template);
      return [...new Set([...message.fields, ...(subject?.fields ?? []), ...(html?.fields ?? [])])];
    },
    render(key: string, data: Record<string, string | number>): RenderedMessage {
      const template = Object.hasOwn(templates(), key) ? templates()[key] : undefined;
      if (!template) throw new RenderError(`template "${key}" is not in NOTIFICATION_TEMPLATES`);
      const values: TemplateValues = {};
      // Data keys may use any accepted spelling (`vaccineName`, `Name`); derived fields are never taken from data.
      for (const [name, value] of Object.entries(data)) {
        const field = notificationField(name);
        const cleaned = cleanValue(value);
        if (field === undefined || DERIVED_NOTIFICATION_FIELDS.includes(field) || cleaned === undefined) continue;
        values[field] = cleaned;
      }
      values.downloadUrl = buildDownloadUrl(downloadUrl, values);
      const { message, subject, html } = parsed(template);
      const text = renderNotificationTemplate(message, values);
      return {
        text,
        subject: subject === undefined ? undefined : renderNotificationTemplate(subject, values),
        html: html === undefined ? undefined : renderNotificationTemplate(html, values, escapeHtml),
      };
    },
  };
};
export type Renderer = ReturnType<typeof createRenderer>;

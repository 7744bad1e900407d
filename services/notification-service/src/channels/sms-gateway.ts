import { maskText } from '../mask.js';
import { type Channel, DeliveryError, isTransientStatus, type OutgoingNotification } from './port.js';

/**
 * SMS over any HTTP gateway (DIVOC could only talk to MSG91): the URL, method, headers and the request
 * body are configuration. The body (and, for GET gateways, the URL) is a template with these placeholders,
 * each escaped for where it lands (JSON string, form field, XML text, URL component):
 */
export const SMS_PLACEHOLDERS = {
  message: 'the rendered SMS text',
  phone: 'the number in E.164 form, e.g. +919000012345',
  phoneDigits: 'the same without "+", e.g. 919000012345',
  nationalNumber: 'the number without the country calling code, e.g. 9000012345 (national numbers only)',
  countryCode: 'COUNTRY_CALLING_CODE, e.g. 91',
  sender: 'SMS_SENDER',
} as const;
type SmsPlaceholder = keyof typeof SMS_PLACEHOLDERS;

/** DIVOC's MSG91 request (sender, route 4 = transactional, country, unicode), with sender and country configurable. */
export const MSG91_PRESET = {
  url: 'https://api.msg91.com/api/v2/sendsms',
  method: 'POST',
  authHeader: 'authkey',
  contentType: 'application/json',
  bodyTemplate:
    '{"sender":"{{sender}}","route":"4","country":"{{countryCode}}","unicode":"1","sms":[{"message":"{{message}}","to":["{{nationalNumber}}"]}]}',
} as const;

export interface HttpSmsGatewayOptions {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  /** Sent with every request (the authentication header from a Secret goes here). */
  headers?: Record<string, string>;
  /** The request body (POST and PUT). */
  bodyTemplate?: string | undefined;
  contentType?: string;
  /** Numbers written without "+" are national numbers of this country (e.g. "91"). */
  countryCallingCode: string;
  sender?: string | undefined;
  /**
   * MSG91 answers some errors with 200 and `{"type":"error"}`: with `msg91Answers`, such an answer is a
   * failure (DIVOC dropped it) and the request id of a success is kept as the message's reference.
   */
  msg91Answers?: boolean;
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

type Segment = string | { placeholder: SmsPlaceholder };

/** Splits a gateway template into text and placeholders; an unknown placeholder is a configuration error. */
export const parseGatewayTemplate = (template: string): Segment[] => {
  const segments: Segment[] = [];
  let rest = 0;
  for (const match of template.matchAll(/\{\{\s*([A-Za-z]+)\s*\}\}/g)) {
    const name = match[1] ?? '';
    if (!(name in SMS_PLACEHOLDERS)) {
      throw new Error(`unknown placeholder {{${name}}} (known: ${Object.keys(SMS_PLACEHOLDERS).join(', ')})`);
    }
    if (match.index > rest) segments.push(template.slice(rest, match.index));
    segments.push({ placeholder: name as SmsPlaceholder });
    rest = match.index + match[0].length;
  }
  if (rest < template.length) segments.push(template.slice(rest));
  return segments;
};

const usesPlaceholder = (segments: readonly Segment[], name: SmsPlaceholder): boolean =>
  segments.some((segment) => typeof segment !== 'string' && segment.placeholder === name);

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** How a value is escaped inside a body of the given content type. */
export const escaperFor = (contentType: string): ((value: string) => string) => {
  const type = contentType.toLowerCase();
  if (type.includes('json')) return (value) => JSON.stringify(value).slice(1, -1);
  if (type.includes('x-www-form-urlencoded')) return encodeURIComponent;
  if (type.includes('xml')) return (value) => value.replace(/[&<>"']/g, (char) => XML_ENTITIES[char] ?? char);
  return (value) => value;
};

const fill = (
  segments: readonly Segment[],
  values: Record<SmsPlaceholder, string>,
  escapeValue: (value: string) => string,
): string =>
  segments
    .map((segment) => (typeof segment === 'string' ? segment : escapeValue(values[segment.placeholder])))
    .join('');

export interface PhoneNumber {
  /** Digits with the country calling code, without "+". */
  international: string;
  /** Digits without the country calling code, when the number belongs to COUNTRY_CALLING_CODE. */
  national: string | undefined;
}

/**
 * `+<digits>` is international; anything else is a national number of `countryCallingCode` (a single
 * trunk "0" is dropped in the international form).
 */
export const parsePhone = (raw: string, countryCallingCode: string): PhoneNumber => {
  const digits = raw.replace(/\D/g, '');
  if (raw.trim().startsWith('+')) {
    return {
      international: digits,
      national: digits.startsWith(countryCallingCode) ? digits.slice(countryCallingCode.length) : undefined,
    };
  }
  return { international: `${countryCallingCode}${digits.replace(/^0/, '')}`, national: digits };
};

const MAX_QUOTED_ANSWER = 200;

const describeNetworkError = (error: unknown, signal: AbortSignal): string => {
  if (signal.aborted) return 'the SMS gateway did not answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `the SMS gateway is unreachable (${cause?.code ?? cause?.message ?? (error as Error).message})`;
};

/** An SMS channel over an HTTP gateway. Throws at construction when a template names an unknown placeholder. */
export const createHttpSmsGateway = (options: HttpSmsGatewayOptions): Channel => {
  const urlSegments = parseGatewayTemplate(options.url);
  const bodySegments = options.bodyTemplate === undefined ? undefined : parseGatewayTemplate(options.bodyTemplate);
  if (options.method !== 'GET' && bodySegments === undefined) throw new Error(`a ${options.method} needs a body`);
  const contentType = options.contentType ?? 'application/json';
  const escapeBody = escaperFor(contentType);
  const nationalOnly = [urlSegments, bodySegments ?? []].some((segments) =>
    usesPlaceholder(segments, 'nationalNumber'),
  );
  const doFetch = options.fetch ?? fetch;

  return {
    kind: 'sms',
    async send(message: OutgoingNotification, signal: AbortSignal) {
      const phone = parsePhone(message.to, options.countryCallingCode);
      if (phone.international.length < 7 || phone.international.length > 15) {
        throw new DeliveryError('invalid phone number (an international number has 7 to 15 digits)', true);
      }
      if (nationalOnly && phone.national === undefined) {
        throw new DeliveryError(
          `the number is not in country +${options.countryCallingCode} and the gateway request uses {{nationalNumber}}`,
          true,
        );
      }
      const values: Record<SmsPlaceholder, string> = {
        message: message.text,
        phone: `+${phone.international}`,
        phoneDigits: phone.international,
        nationalNumber: phone.national ?? phone.international,
        countryCode: options.countryCallingCode,
        sender: options.sender ?? '',
      };
      const url = fill(urlSegments, values, encodeURIComponent);
      const body =
        options.method === 'GET' || bodySegments === undefined ? undefined : fill(bodySegments, values, escapeBody);
      let response: Response;
      try {
        response = await doFetch(url, {
          method: options.method,
          headers: { ...(body === undefined ? {} : { 'content-type': contentType }), ...options.headers },
          ...(body === undefined ? {} : { body }),
          signal,
          redirect: 'error',
        });
      } catch (error) {
        throw new DeliveryError(describeNetworkError(error, signal), false);
      }
      let answer = '';
      try {
        answer = await response.text();
      } catch (error) {
        if (response.ok) throw new DeliveryError(describeNetworkError(error, signal), false);
      }
      const quoted = maskText(answer.replace(/\s+/g, ' ').trim().slice(0, MAX_QUOTED_ANSWER));
      if (!response.ok) {
        throw new DeliveryError(
          `the SMS gateway answered ${response.status}${quoted ? `: ${quoted}` : ''}`,
          !isTransientStatus(response.status),
        );
      }
      if (!options.msg91Answers) return {};
      let parsed: { type?: unknown; message?: unknown } | undefined;
      try {
        parsed = JSON.parse(answer) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      if (parsed?.type === 'error') {
        throw new DeliveryError(`MSG91 refused the message: ${quoted}`, true);
      }
      return { ref: typeof parsed?.message === 'string' ? parsed.message.slice(0, 100) : undefined };
    },
    async close() {},
  };
};

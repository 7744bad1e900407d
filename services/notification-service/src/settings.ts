import { envBoolean, envPort, InfrastructureEnv } from '@divoc/platform';
import { z } from 'zod';
import type { Channel, ChannelKind } from './channels/port.js';
import {
  createHttpSmsGateway,
  type HttpSmsGatewayOptions,
  MSG91_PRESET,
  parseGatewayTemplate,
} from './channels/sms-gateway.js';
import { createSmtpChannel, type SmtpChannelOptions } from './channels/smtp.js';
import type { RetrySettings } from './deliver.js';
import { checkDownloadUrl } from './render.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const milliseconds = (fallback: number, max: number) => z.coerce.number().int().min(0).max(max).default(fallback);

/** Where citizens are sent in embedded mode when CERTIFICATE_DOWNLOAD_URL is not set (certificate-api's port). */
export const EMBEDDED_DOWNLOAD_URL = 'http://localhost:4321/certificate/';

/**
 * The notification service's environment (DESIGN §10): channels, gateway and SMTP settings, retries. A
 * missing or malformed value stops the process with a message naming the variable. Secrets
 * (SMS_AUTH_KEY, SMTP_PASSWORD) come from a Kubernetes Secret.
 */
export const NotificationEnv = InfrastructureEnv.extend({
  PORT: envPort(8765),
  ENABLE_SMS: envBoolean(false),
  ENABLE_EMAIL: envBoolean(false),
  /** Also notify the beneficiary when a certificate is revoked (template recipientRevoked). */
  NOTIFY_ON_REVOKE: envBoolean(false),
  /** The link {{downloadUrl}} prints; may contain {certificateId} or {preEnrollmentCode}. */
  CERTIFICATE_DOWNLOAD_URL: z.string().min(1).optional(),
  /** Numbers written without "+" belong to this country (DIVOC hard-coded 91). */
  COUNTRY_CALLING_CODE: z
    .string()
    .regex(/^[1-9]\d{0,2}$/, 'must be 1 to 3 digits without "+", e.g. 91')
    .default('91'),
  /** `msg91`: DIVOC's gateway and request body; `generic`: everything from the SMS_* variables. */
  SMS_PRESET: z.enum(['generic', 'msg91'], { error: 'must be generic or msg91' }).default('generic'),
  /** The gateway URL (may contain the SMS placeholders, URL-encoded, for GET gateways). */
  SMS_URL: z.string().min(1).optional(),
  SMS_METHOD: z.enum(['GET', 'POST', 'PUT'], { error: 'must be GET, POST or PUT' }).optional(),
  /** Name of the header carrying SMS_AUTH_KEY (msg91: authkey). */
  SMS_AUTH_HEADER: z.string().regex(HEADER_NAME, 'must be an HTTP header name').optional(),
  SMS_AUTH_KEY: z.string().min(1).optional(),
  /** The request body with {{message}}, {{phone}}, {{phoneDigits}}, {{nationalNumber}}, {{countryCode}}, {{sender}}. */
  SMS_BODY_TEMPLATE: z.string().min(1).optional(),
  SMS_CONTENT_TYPE: z.string().min(1).optional(),
  /** Sender id (msg91: the DLT-registered header such as DIVOC's SOCKET). */
  SMS_SENDER: z.string().min(1).max(20).optional(),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65_535).default(587),
  /** TLS from the first byte (usually port 465); otherwise STARTTLS when offered. */
  SMTP_SECURE: envBoolean(false),
  /** Refuse to send (and to log in) without STARTTLS. */
  SMTP_REQUIRE_TLS: envBoolean(false),
  /** Login name (default SENDER_EMAIL when SMTP_PASSWORD or SENDER_PASSWORD is set, as DIVOC logged in). */
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  /** DIVOC's name for the SMTP password; used when SMTP_PASSWORD is not set. */
  SENDER_PASSWORD: z.string().min(1).optional(),
  SENDER_EMAIL: z.email('must be an email address').optional(),
  SENDER_NAME: z.string().min(1).max(100).optional(),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  NOTIFY_RETRY_INITIAL_MS: milliseconds(500, 60_000),
  NOTIFY_RETRY_MAX_MS: milliseconds(4_000, 60_000),
  /** The longest one message may hold its partition with retries. */
  NOTIFY_RETRY_BUDGET_MS: milliseconds(15_000, 120_000),
  NOTIFY_SEND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Partitions handled at the same time. */
  NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Messages of one batch sent at the same time. */
  NOTIFY_PARALLEL_SENDS: z.coerce.number().int().min(1).max(64).default(8),
}).superRefine((env, ctx) => {
  const problem = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const embedded = env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;
  if (env.CERTIFICATE_DOWNLOAD_URL !== undefined) {
    const wrong = checkDownloadUrl(env.CERTIFICATE_DOWNLOAD_URL);
    if (wrong) problem('CERTIFICATE_DOWNLOAD_URL', wrong);
  } else if (!embedded && (env.ENABLE_SMS || env.ENABLE_EMAIL)) {
    problem('CERTIFICATE_DOWNLOAD_URL', 'is required when a channel is enabled (the link in the messages)');
  }
  if (env.NOTIFY_RETRY_MAX_MS < env.NOTIFY_RETRY_INITIAL_MS) {
    problem('NOTIFY_RETRY_MAX_MS', 'must not be less than NOTIFY_RETRY_INITIAL_MS');
  }
  if (env.ENABLE_SMS) {
    const msg91 = env.SMS_PRESET === 'msg91';
    const method = env.SMS_METHOD ?? (msg91 ? MSG91_PRESET.method : 'POST');
    if (!msg91 && env.SMS_URL === undefined)
      problem('SMS_URL', 'is required with ENABLE_SMS=true (or SMS_PRESET=msg91)');
    if (msg91 && env.SMS_AUTH_KEY === undefined) problem('SMS_AUTH_KEY', 'is required with SMS_PRESET=msg91');
    if (env.SMS_AUTH_KEY !== undefined && !msg91 && env.SMS_AUTH_HEADER === undefined) {
      problem('SMS_AUTH_HEADER', 'is required with SMS_AUTH_KEY (the header that carries it)');
    }
    if (!msg91 && method !== 'GET' && env.SMS_BODY_TEMPLATE === undefined) {
      problem('SMS_BODY_TEMPLATE', `is required for SMS_METHOD=${method}`);
    }
    const url = env.SMS_URL ?? (msg91 ? MSG91_PRESET.url : undefined);
    const body = env.SMS_BODY_TEMPLATE ?? (msg91 ? MSG91_PRESET.bodyTemplate : undefined);
    for (const [variable, template] of [
      ['SMS_URL', url],
      ['SMS_BODY_TEMPLATE', body],
    ] as const) {
      if (template === undefined) continue;
      try {
        const segments = parseGatewayTemplate(template);
        if (
          env.SMS_SENDER === undefined &&
          segments.some((segment) => typeof segment !== 'string' && segment.placeholder === 'sender')
        ) {
          problem('SMS_SENDER', `is required: ${variable} uses {{sender}}`);
        }
      } catch (error) {
        problem(variable, (error as Error).message);
      }
    }
    if (url !== undefined && !/^https?:\/\/[^/\s]+/.test(url)) problem('SMS_URL', 'must be an http(s) URL');
  }
  if (env.ENABLE_EMAIL) {
    if (env.SMTP_HOST === undefined) problem('SMTP_HOST', 'is required with ENABLE_EMAIL=true');
    if (env.SENDER_EMAIL === undefined)
      problem('SENDER_EMAIL', 'is required with ENABLE_EMAIL=true (the From address)');
  }
});
export type NotificationEnv = z.infer<typeof NotificationEnv>;

/** The SMS gateway settings, or undefined when SMS is disabled. */
export const smsGatewayOptions = (env: NotificationEnv): HttpSmsGatewayOptions | undefined => {
  if (!env.ENABLE_SMS) return undefined;
  const msg91 = env.SMS_PRESET === 'msg91';
  const authHeader = env.SMS_AUTH_HEADER ?? (msg91 ? MSG91_PRESET.authHeader : undefined);
  return {
    url: env.SMS_URL ?? MSG91_PRESET.url,
    method: env.SMS_METHOD ?? (msg91 ? MSG91_PRESET.method : 'POST'),
    headers: authHeader && env.SMS_AUTH_KEY ? { [authHeader]: env.SMS_AUTH_KEY } : {},
    bodyTemplate: env.SMS_BODY_TEMPLATE ?? (msg91 ? MSG91_PRESET.bodyTemplate : undefined),
    contentType: env.SMS_CONTENT_TYPE ?? MSG91_PRESET.contentType,
    countryCallingCode: env.COUNTRY_CALLING_CODE,
    sender: env.SMS_SENDER,
    msg91Answers: msg91,
  };
};

/** The SMTP settings, or undefined when email is disabled. */
export const smtpOptions = (env: NotificationEnv): SmtpChannelOptions | undefined => {
  if (!env.ENABLE_EMAIL || env.SMTP_HOST === undefined || env.SENDER_EMAIL === undefined) return undefined;
  const password = env.SMTP_PASSWORD ?? env.SENDER_PASSWORD;
  return {
    host: env.SMTP_HOST,
    port: env.SMTP_PORT,
    secure: env.SMTP_SECURE,
    requireTls: env.SMTP_REQUIRE_TLS,
    user: env.SMTP_USER ?? (password === undefined ? undefined : env.SENDER_EMAIL),
    password,
    from: env.SENDER_EMAIL,
    fromName: env.SENDER_NAME,
    timeoutMs: env.NOTIFY_SEND_TIMEOUT_MS,
  };
};

/** The channel adapters the environment enables. */
export const createChannels = (env: NotificationEnv): Partial<Record<ChannelKind, Channel>> => {
  const sms = smsGatewayOptions(env);
  const email = smtpOptions(env);
  return {
    ...(sms ? { sms: createHttpSmsGateway(sms) } : {}),
    ...(email ? { email: createSmtpChannel(email) } : {}),
  };
};

export const retrySettings = (env: NotificationEnv): RetrySettings => ({
  maxAttempts: env.NOTIFY_MAX_ATTEMPTS,
  initialMs: env.NOTIFY_RETRY_INITIAL_MS,
  maxMs: env.NOTIFY_RETRY_MAX_MS,
  budgetMs: env.NOTIFY_RETRY_BUDGET_MS,
  sendTimeoutMs: env.NOTIFY_SEND_TIMEOUT_MS,
});

export const downloadUrlOf = (env: NotificationEnv): string => env.CERTIFICATE_DOWNLOAD_URL ?? EMBEDDED_DOWNLOAD_URL;

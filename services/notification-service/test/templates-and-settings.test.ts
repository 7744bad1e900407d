/**
 * The pieces without infrastructure: the template language of NOTIFICATION_TEMPLATES (safe placeholders
 * only, validated when loaded), rendering, masking, the SMS request building and error classification, and
 * the environment (every problem names its variable).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotificationTemplates, parseNotificationTemplate, renderNotificationTemplate } from '@divoc/contracts';
import { EnvironmentError, parseEnv } from '@divoc/platform';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test-fixtures/index.js';
import { DeliveryError } from '../src/channels/port.js';
import { createHttpSmsGateway, parsePhone } from '../src/channels/sms-gateway.js';
import { classifySmtpError } from '../src/channels/smtp.js';
import { maskEmail, maskPhone, maskRecipient, maskText } from '../src/mask.js';
import { createRenderer } from '../src/render.js';
import { NotificationEnv, smsGatewayOptions, smtpOptions } from '../src/settings.js';
import { defaultsDirectory } from './support.js';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const divocTemplates = readJson(fixturePath('divoc', 'etcd/NOTIFICATION_TEMPLATES.json'));
const ourTemplates = readJson(join(defaultsDirectory, 'NOTIFICATION_TEMPLATES.json'));

const problemsOf = (value: unknown): string[] => {
  const result = NotificationTemplates.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('NOTIFICATION_TEMPLATES', () => {
  it("accepts DIVOC's value as it is ({{.Name}} placeholders) and our default", () => {
    expect(problemsOf(divocTemplates)).toEqual([]);
    expect(problemsOf(ourTemplates)).toEqual([]);
    expect(ourTemplates.recipientCertified.message).not.toContain('certificat ');
    expect(ourTemplates.recipientCertified.message).toContain('{{downloadUrl}}');
  });

  it('renders both spellings of a placeholder, without regard to case', () => {
    const template = parseNotificationTemplate(
      '{{.Name}} / {{ name }} / {{NAME}} / {{.VaccineName}} / {{vaccine}} / {{.Code}}',
    );
    expect(template.problems).toEqual([]);
    expect(template.fields).toEqual(['name', 'product', 'preEnrollmentCode']);
    expect(renderNotificationTemplate(template, { name: 'Ravi', product: 'Covaxin', preEnrollmentCode: 'P1' })).toBe(
      'Ravi / Ravi / Ravi / Covaxin / Covaxin / P1',
    );
  });

  it('rejects a typo, code, conditionals, partials and unclosed placeholders, naming the key and the part', () => {
    const withMessage = (message: string) => ({ recipientCertified: { message } });
    expect(problemsOf(withMessage('Hello {{.Nmae}}'))).toEqual([
      expect.stringMatching(/^recipientCertified\.message: unknown placeholder "\{\{\.Nmae\}\}"; known: name, product/),
    ]);
    for (const text of [
      '{{if .Name}}x{{end}}',
      '{{#each names}}x{{/each}}',
      '{{{name}}}',
      '{{> partial}}',
      '{{name | upper}}',
      '{{ constructor.constructor("return process")() }}',
      'Hello {{name',
    ]) {
      expect(problemsOf(withMessage(text)).length, text).toBeGreaterThan(0);
    }
    expect(problemsOf({ recipientCertified: { message: 'ok', subject: 'Hi {{nam}}' } })).toEqual([
      expect.stringMatching(/^recipientCertified\.subject: unknown placeholder/),
    ]);
  });

  it('requires recipientCertified and lets event templates use only what their event carries', () => {
    expect(problemsOf({ other: { message: 'x' } })).toEqual([
      expect.stringMatching(/^recipientCertified: is required/),
    ]);
    expect(
      problemsOf({ recipientCertified: { message: 'x' }, recipientRevoked: { message: 'Dear {{name}}, revoked' } }),
    ).toEqual([
      expect.stringMatching(/^recipientRevoked\.message: \{\{name\}\} is not available to "recipientRevoked"/),
    ]);
    expect(problemsOf({ recipientCertified: { message: 'x', mesage: 'typo' } }).length).toBeGreaterThan(0);
    expect(problemsOf({ recipientCertified: { message: 'x', subject: 'two\nlines' } }).length).toBeGreaterThan(0);
  });

  it('escapes values in HTML only, strips control characters and builds the download link', () => {
    const templates = NotificationTemplates.parse({
      recipientCertified: {
        message: '{{name}}: {{downloadUrl}}',
        html: '<b>{{name}}</b> <a href="{{downloadUrl}}">x</a>',
      },
    });
    const renderer = createRenderer(() => templates, 'https://example.org/c/{certificateId}?p={preEnrollmentCode}');
    const rendered = renderer.render('recipientCertified', {
      name: 'A <b>&\u0007\r\nB',
      certificateId: 'C 1/2',
      preEnrollmentCode: 'P&1',
      downloadUrl: 'https://evil.example',
    });
    expect(rendered.text).toBe('A <b>& B: https://example.org/c/C%201%2F2?p=P%261');
    expect(rendered.html).toBe('<b>A &lt;b&gt;&amp; B</b> <a href="https://example.org/c/C%201%2F2?p=P%261">x</a>');
    expect(() => renderer.render('missing', {})).toThrow(/template "missing" is not in NOTIFICATION_TEMPLATES/);
  });
});

describe('masking', () => {
  it('keeps the last four digits of a number and the first letter and domain of an address', () => {
    expect(maskPhone('9000012345')).toBe('******2345');
    expect(maskRecipient('tel:+919000012345')).toBe('********2345');
    expect(maskEmail('ravi.kumar@example.org')).toBe('r***@example.org');
    expect(maskRecipient('mailto:a@example.org')).toBe('a***@example.org');
    expect(maskText('550 <ravi@example.org> unknown; retry 9000012345 or +91 later')).toBe(
      '550 <r***@example.org> unknown; retry ******2345 or +91 later',
    );
  });
});

describe('SMS gateway requests', () => {
  const capture = () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchStub = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init ?? {} });
      return new Response('{"type":"success","message":"r1"}', { status: 200 });
    }) as typeof fetch;
    return { calls, fetchStub };
  };

  it('escapes the message for the body type (JSON) and the URL, and reads national and international numbers', async () => {
    const { calls, fetchStub } = capture();
    const gateway = createHttpSmsGateway({
      url: 'https://gw.example/send?cc={{countryCode}}',
      method: 'POST',
      bodyTemplate: '{"to":"{{phone}}","national":"{{nationalNumber}}","text":"{{message}}"}',
      countryCallingCode: '91',
      fetch: fetchStub,
    });
    await gateway.send({ to: '09000012345', text: 'He said "hi"\\ & left' }, new AbortController().signal);
    expect(calls[0]?.url).toBe('https://gw.example/send?cc=91');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      to: '+919000012345',
      national: '09000012345',
      text: 'He said "hi"\\ & left',
    });
    expect(parsePhone('+447700900123', '91')).toEqual({ international: '447700900123', national: undefined });
    expect(parsePhone('+919000012345', '91')).toEqual({ international: '919000012345', national: '9000012345' });
  });

  it('never sends a foreign number through a national-only request (MSG91 with a country field)', async () => {
    const { calls, fetchStub } = capture();
    const gateway = createHttpSmsGateway({
      ...(smsGatewayOptions(
        parseEnv(NotificationEnv, {
          ENABLE_SMS: 'true',
          SMS_PRESET: 'msg91',
          SMS_AUTH_KEY: 'k',
          SMS_SENDER: 'SOCKET',
        }),
      ) as NonNullable<ReturnType<typeof smsGatewayOptions>>),
      fetch: fetchStub,
    });
    const error = await gateway.send({ to: '+447700900123', text: 'x' }, new AbortController().signal).catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.permanent).toBe(true);
    expect(calls).toHaveLength(0);
  });

  it('treats 408, 429 and 5xx as transient, other 4xx and MSG91 "error" answers as permanent', async () => {
    const answer = (status: number, body = '{}') =>
      createHttpSmsGateway({
        url: 'https://gw.example/send?to={{phone}}',
        method: 'GET',
        countryCallingCode: '91',
        msg91Answers: true,
        fetch: (async () => new Response(body, { status })) as typeof fetch,
      })
        .send({ to: '9000012345', text: 'x' }, new AbortController().signal)
        .then(
          () => 'sent',
          (error: DeliveryError) => (error.permanent ? 'permanent' : 'transient'),
        );
    expect(await answer(200)).toBe('sent');
    for (const status of [408, 429, 500, 502, 503]) expect(await answer(status), String(status)).toBe('transient');
    for (const status of [400, 401, 403, 404, 422]) expect(await answer(status), String(status)).toBe('permanent');
    expect(await answer(200, '{"type":"error","message":"Authentication failure"}')).toBe('permanent');
  });
});

describe('SMTP errors', () => {
  it('retries 4xx replies and connection problems; gives up on 5xx, refused envelopes and bad logins', () => {
    const kind = (error: object) => (classifySmtpError(error).permanent ? 'permanent' : 'transient');
    expect(kind({ code: 'EENVELOPE', responseCode: 451, message: 'try later' })).toBe('transient');
    expect(kind({ code: 'EENVELOPE', responseCode: 550, message: 'no such user <a@b.org>' })).toBe('permanent');
    expect(kind({ code: 'EMESSAGE', responseCode: 421 })).toBe('transient');
    expect(kind({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' })).toBe('transient');
    expect(kind({ code: 'ETIMEDOUT' })).toBe('transient');
    expect(kind({ code: 'EAUTH', responseCode: 535 })).toBe('permanent');
    expect(
      classifySmtpError({ code: 'EENVELOPE', responseCode: 550, message: 'no such user <ravi@b.org>' }).message,
    ).toBe('SMTP EENVELOPE 550: no such user <r***@b.org>');
  });
});

describe('environment', () => {
  const problems = (env: Record<string, string>): string => {
    try {
      parseEnv(NotificationEnv, env);
      return '';
    } catch (error) {
      expect(error).toBeInstanceOf(EnvironmentError);
      return (error as Error).message;
    }
  };

  it('starts with both channels disabled and DIVOC-compatible defaults', () => {
    const env = parseEnv(NotificationEnv, {});
    expect(env).toMatchObject({ PORT: 8765, ENABLE_SMS: false, ENABLE_EMAIL: false, COUNTRY_CALLING_CODE: '91' });
    expect(env.NOTIFY_MAX_ATTEMPTS).toBe(5);
  });

  it('names every missing or malformed variable', () => {
    expect(problems({ ENABLE_SMS: 'true' })).toMatch(/SMS_URL is required/);
    expect(problems({ ENABLE_SMS: 'true', SMS_PRESET: 'msg91' })).toMatch(
      /SMS_AUTH_KEY is required.*SMS_SENDER is required/,
    );
    expect(problems({ ENABLE_SMS: 'true', SMS_URL: 'https://gw.example', SMS_AUTH_KEY: 'k' })).toMatch(
      /SMS_AUTH_HEADER is required.*SMS_BODY_TEMPLATE is required/,
    );
    expect(
      problems({ ENABLE_SMS: 'true', SMS_URL: 'https://gw.example', SMS_BODY_TEMPLATE: '{"to":"{{mobile}}"}' }),
    ).toMatch(/SMS_BODY_TEMPLATE unknown placeholder \{\{mobile\}\}/);
    expect(problems({ ENABLE_SMS: 'yes please' })).toMatch(/ENABLE_SMS must be true or false/);
    expect(problems({ ENABLE_EMAIL: 'true' })).toMatch(/SMTP_HOST is required.*SENDER_EMAIL is required/);
    expect(problems({ COUNTRY_CALLING_CODE: '+91' })).toMatch(/COUNTRY_CALLING_CODE must be 1 to 3 digits/);
    expect(problems({ CERTIFICATE_DOWNLOAD_URL: 'https://x.example/{id}' })).toMatch(
      /CERTIFICATE_DOWNLOAD_URL may contain only/,
    );
    expect(
      problems({ KAFKA_BROKERS: 'k:9092', ENABLE_EMAIL: 'true', SMTP_HOST: 'smtp', SENDER_EMAIL: 'a@example.org' }),
    ).toMatch(/CERTIFICATE_DOWNLOAD_URL is required/);
  });

  it("logs in with SENDER_EMAIL and DIVOC's SENDER_PASSWORD when SMTP_USER and SMTP_PASSWORD are not set", () => {
    const env = parseEnv(NotificationEnv, {
      ENABLE_EMAIL: 'true',
      SMTP_HOST: 'smtp.example.org',
      SENDER_EMAIL: 'noreply@example.org',
      SENDER_PASSWORD: 'secret',
    });
    expect(smtpOptions(env)).toMatchObject({
      host: 'smtp.example.org',
      port: 587,
      user: 'noreply@example.org',
      password: 'secret',
    });
  });
});

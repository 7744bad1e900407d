/**
 * POST /divoc/notification-service/v1/notification: only service accounts (role `api`), templates only
 * (never free text), a 400 naming the field for anything that cannot be sent, and the accepted message
 * delivered through the notify topic like every other one.
 */
import { createMetricsRegistry, parseEnv } from '@divoc/platform';
import { findNotifications } from '@divoc/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Channel, createNotificationService, NOTIFICATION_PATH, type NotificationService } from '../src/app.js';
import { createChannels, NotificationEnv } from '../src/settings.js';
import { captureLogs, eventually, openPorts, type Ports, startSmsSink } from './support.js';

const DOWNLOAD_URL = 'https://divoc.example.org/certificate/{preEnrollmentCode}';

describe('POST /divoc/notification-service/v1/notification', () => {
  const logs = captureLogs();
  let ports: Ports;
  let sink: Awaited<ReturnType<typeof startSmsSink>>;
  let channels: Partial<Record<'sms' | 'email', Channel>>;
  let service: NotificationService;

  const post = async (body: unknown, roles?: string[]) =>
    service.http.inject({
      method: 'POST',
      url: NOTIFICATION_PATH,
      headers: roles ? { authorization: `Bearer ${await ports.issuer.issue({ roles, username: 'portal' })}` } : {},
      payload: body as Record<string, unknown>,
    });

  const valid = {
    recipient: 'tel:+919000077777',
    template: 'preEnrollmentRegistered',
    data: { Name: 'Asha Devi', programId: 'C19', code: 'P-123456' },
  };

  beforeAll(async () => {
    ports = await openPorts(logs.logger);
    sink = await startSmsSink();
    // A generic form-encoded gateway; email stays disabled on this installation.
    const env = parseEnv(NotificationEnv, {
      ENABLE_SMS: 'true',
      SMS_URL: sink.url,
      SMS_AUTH_HEADER: 'x-api-key',
      SMS_AUTH_KEY: 'gateway-secret',
      SMS_CONTENT_TYPE: 'application/x-www-form-urlencoded',
      SMS_BODY_TEMPLATE: 'to={{phone}}&text={{message}}&from={{sender}}',
      SMS_SENDER: 'DIVOC',
      CERTIFICATE_DOWNLOAD_URL: DOWNLOAD_URL,
    });
    channels = createChannels(env);
    service = await createNotificationService({
      db: ports.db,
      bus: ports.bus,
      logger: logs.logger,
      metrics: createMetricsRegistry('notification-service', { defaults: false }),
      authenticator: ports.issuer.authenticator({ rolesClient: 'divoc' }),
      templates: ports.templates,
      channels,
      downloadUrl: DOWNLOAD_URL,
      retry: { initialMs: 20, maxMs: 100 },
    });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all(Object.values(channels ?? {}).map((channel) => channel.close()));
    await sink?.close();
    await ports?.close();
  });

  it('rejects a call without a token (401) and one without the api role (403)', async () => {
    expect((await post(valid)).statusCode).toBe(401);
    for (const roles of [['facility-staff'], ['recipient'], ['admin'], ['facility-print-staff']]) {
      const response = await post(valid, roles);
      expect(response.statusCode, roles[0]).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(sink.requests).toHaveLength(0);
  });

  it('answers 400 naming the field for an invalid recipient', async () => {
    for (const recipient of ['tel:12', 'sms:9000012345', 'mailto:not-an-address', '9000012345', 42]) {
      const response = await post({ ...valid, recipient }, ['api']);
      expect(response.statusCode, String(recipient)).toBe(400);
      expect(response.json().details).toEqual([expect.objectContaining({ path: 'recipient' })]);
    }
    // A channel this installation does not run is a 400 on the recipient too.
    const email = await post({ ...valid, recipient: 'mailto:asha@example.org' }, ['api']);
    expect(email.statusCode).toBe(400);
    expect(email.json().details).toEqual([
      { path: 'recipient', message: 'email notifications are disabled on this installation' },
    ]);
  });

  it('accepts templates only: no free text, no unknown template, no unknown or derived field, no missing value', async () => {
    const cases: [unknown, string][] = [
      [{ recipient: valid.recipient, message: 'Click http://evil.example', subject: 'Hi' }, 'message'],
      [{ ...valid, template: 'noSuchTemplate' }, 'template'],
      [{ ...valid, data: { ...valid.data, downloadUrl: 'http://evil.example' } }, 'data.downloadUrl'],
      [{ ...valid, data: { ...valid.data, nickname: 'A' } }, 'data.nickname'],
      [{ ...valid, data: { programId: 'C19', code: 'P-1' } }, 'data.name'],
      [{ ...valid, data: { ...valid.data, Name: 'x'.repeat(501) } }, 'data.Name'],
    ];
    for (const [body, path] of cases) {
      const response = await post(body, ['api']);
      expect(response.statusCode, path).toBe(400);
      expect(
        response.json().details.map((detail: { path: string }) => detail.path),
        path,
      ).toContain(path);
    }
    // downloadUrl is built from CERTIFICATE_DOWNLOAD_URL, which needs the pre-enrolment code here.
    const needsCode = await post(
      { recipient: valid.recipient, template: 'recipientCertified', data: { name: 'A', product: 'B' } },
      ['api'],
    );
    expect(needsCode.statusCode).toBe(400);
    expect(needsCode.json().details).toContainEqual({
      path: 'data.preEnrollmentCode',
      message: 'is required by template "recipientCertified"',
    });
    expect(sink.requests).toHaveLength(0);
  });

  it('answers 202 with an id and delivers the rendered message through the notify topic', async () => {
    const response = await post(valid, ['api']);
    expect(response.statusCode).toBe(202);
    const { id } = response.json() as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const sms = await eventually(() => sink.delivered('9000077777')[0]);
    expect(sms.headers['x-api-key']).toBe('gateway-secret');
    expect(new URLSearchParams(sms.body).get('from')).toBe('DIVOC');
    expect(sms.phone).toBe('+919000077777');
    expect(sms.text).toBe(
      'Asha Devi, you have been registered to receive C19. Please proceed to the nearest vaccination center. Please show the Pre Enrollment Code: P-123456 to the center admin.',
    );
    const [row] = await eventually(async () => {
      const found = await findNotifications(ports.db, `notify:${id}`);
      return found[0]?.status === 'sent' ? found : undefined;
    });
    expect(row).toMatchObject({ channel: 'sms', template: 'preEnrollmentRegistered', recipientMasked: '********7777' });

    // The same content posted again is another notification (its own id), not a duplicate.
    const again = await post(valid, ['api']);
    expect(again.statusCode).toBe(202);
    await eventually(() => (sink.delivered('9000077777').length === 2 ? true : undefined));
  });

  it('logs the accepted notification with the caller and the masked recipient only', () => {
    const accepted = logs.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'notification accepted');
    expect(accepted[0]).toMatchObject({ actor: 'portal', channel: 'sms', to: '********7777' });
    expect(logs.text()).not.toContain('9000077777');
    expect(logs.text()).not.toContain('Asha Devi');
  });
});

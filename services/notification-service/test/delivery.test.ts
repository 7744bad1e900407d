/**
 * Delivery of certified notifications end to end through the service's ports: a real SMTP server and an HTTP
 * SMS sink receive the messages; retries, dead letters, deduplication, hot-reloaded templates and masked logs.
 * Embedded ports by default, the real ones with DIVOC_INFRA=real.
 */
import { dlqTopic, NOTIFICATION_ID_HEADER, NotifyEvent, TOPICS } from '@divoc/contracts';
import { createMetricsRegistry, DEAD_LETTER_HEADERS, parseEnv, type Registry } from '@divoc/platform';
import { claimNotification, findNotifications, markNotificationSent } from '@divoc/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Channel, createNotificationService, type NotificationService } from '../src/app.js';
import { createChannels, NotificationEnv } from '../src/settings.js';
import {
  captureLogs,
  certifiedEvent,
  eventually,
  openPorts,
  type Ports,
  readDeadLetters,
  startSmsSink,
  startSmtpServer,
} from './support.js';

const DOWNLOAD_URL = 'https://divoc.example.org/certificate/?id={certificateId}';

describe('notification-service delivery', () => {
  const logs = captureLogs();
  let ports: Ports;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let sink: Awaited<ReturnType<typeof startSmsSink>>;
  let dlq: Awaited<ReturnType<typeof readDeadLetters>>;
  let channels: Partial<Record<'sms' | 'email', Channel>>;
  let service: NotificationService;
  let metrics: Registry;
  /** Every phone number and address the tests use, to look for in the logs. */
  const used: string[] = [];

  const publishCertified = async (overrides: Record<string, unknown>) => {
    const event = certifiedEvent(overrides);
    for (const contact of event.contact as string[]) used.push(contact.slice(contact.indexOf(':') + 1));
    await ports.bus.publish(TOPICS.certified, [{ key: event.preEnrollmentCode, value: JSON.stringify(event) }]);
    return event;
  };
  const rows = (certificateId: string) => findNotifications(ports.db, `certified:${certificateId}`);
  const counter = async (outcome: string, channel: string) =>
    (await metrics.getSingleMetric('divoc_notifications_total')?.get())?.values.find(
      (value) => value.labels.outcome === outcome && value.labels.channel === channel,
    )?.value ?? 0;

  beforeAll(async () => {
    ports = await openPorts(logs.logger);
    smtp = await startSmtpServer();
    sink = await startSmsSink();
    dlq = await readDeadLetters(ports.bus, [dlqTopic(TOPICS.notify), dlqTopic(TOPICS.certified)]);
    const env = parseEnv(NotificationEnv, {
      ENABLE_SMS: 'true',
      SMS_PRESET: 'msg91',
      SMS_URL: sink.url,
      SMS_AUTH_KEY: 'test-auth-key',
      SMS_SENDER: 'DIVOCS',
      COUNTRY_CALLING_CODE: '91',
      ENABLE_EMAIL: 'true',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_USER: smtp.user,
      SMTP_PASSWORD: smtp.password,
      SENDER_EMAIL: 'certificates@divoc.example.org',
      SENDER_NAME: 'DIVOC',
      CERTIFICATE_DOWNLOAD_URL: DOWNLOAD_URL,
    });
    channels = createChannels(env);
    metrics = createMetricsRegistry('notification-service', { defaults: false });
    service = await createNotificationService({
      db: ports.db,
      bus: ports.bus,
      logger: logs.logger,
      metrics,
      authenticator: ports.issuer.authenticator({ rolesClient: 'divoc' }),
      templates: ports.templates,
      channels,
      downloadUrl: DOWNLOAD_URL,
      notifyOnRevoke: true,
      retry: { maxAttempts: 5, initialMs: 20, maxMs: 100, budgetMs: 10_000, sendTimeoutMs: 3_000 },
    });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await dlq?.stop();
    await Promise.all(Object.values(channels ?? {}).map((channel) => channel.close()));
    await sink?.close();
    await smtp?.close();
    await ports?.close();
  });

  it('sends the SMS and the email of a certified event, rendered from NOTIFICATION_TEMPLATES', async () => {
    const event = await publishCertified({ contact: ['tel:9000011111', 'mailto:ravi.kumar@example.org'] });
    const mail = await eventually(() => smtp.to('ravi.kumar@example.org')[0]);
    const sms = await eventually(() => sink.delivered('9000011111')[0]);
    const expected = `Ravi Kumar, your Covishield vaccine certificate can be viewed and downloaded at: https://divoc.example.org/certificate/?id=${event.certificateId}`;

    // MSG91's request as DIVOC sent it, with sender and country from the configuration.
    expect(sms.method).toBe('POST');
    expect(sms.headers.authkey).toBe('test-auth-key');
    expect(JSON.parse(sms.body)).toEqual({
      sender: 'DIVOCS',
      route: '4',
      country: '91',
      unicode: '1',
      sms: [{ message: expected, to: ['9000011111'] }],
    });

    expect(mail.from).toBe('certificates@divoc.example.org');
    expect(mail.subject).toBe('DIVOC - Vaccination Certificate');
    expect(mail.text).toBe(expected);
    expect(mail.html).toContain(`href="https://divoc.example.org/certificate/?id=${event.certificateId}"`);
    expect(mail.html).toContain('(dose 1)');

    const log = await eventually(async () => {
      const found = await rows(event.certificateId);
      return found.length === 2 && found.every((row) => row.status === 'sent') ? found : undefined;
    });
    expect(log.map((row) => [row.channel, row.recipientMasked, row.attempts, row.template])).toEqual(
      expect.arrayContaining([
        ['sms', '******1111', 1, 'recipientCertified'],
        ['email', 'r***@example.org', 1, 'recipientCertified'],
      ]),
    );
  });

  it('uses a template edited in the config store for the next message, without a restart', async () => {
    const before = ports.registry.version(ports.templatesKey);
    const edited = {
      ...ports.defaults,
      recipientCertified: {
        ...ports.defaults.recipientCertified,
        // DIVOC's Go-template spelling and ours, mixed.
        message: 'Hello {{.Name}}: {{ product }} dose {{dose}} of {{.TotalDoses}}, certificate {{certificateId}}',
      },
    };
    await ports.store.put(ports.templatesKey.key, JSON.stringify(edited));
    await eventually(() => (ports.registry.version(ports.templatesKey) > before ? true : undefined));

    const event = await publishCertified({ contact: ['tel:9000022222'], dose: 2 });
    const sms = await eventually(() => sink.delivered('9000022222')[0]);
    expect(sms.text).toBe(`Hello Ravi Kumar: Covishield dose 2 of 2, certificate ${event.certificateId}`);

    // A typo is rejected when the value is loaded: the last good template stays in force.
    const version = ports.registry.version(ports.templatesKey);
    const typo = { ...edited, recipientCertified: { message: 'Hello {{.Nmae}}' } };
    await ports.store.put(ports.templatesKey.key, JSON.stringify(typo));
    await eventually(() => (logs.text().includes('configuration change rejected') ? true : undefined));
    expect(ports.registry.version(ports.templatesKey)).toBe(version);
    await publishCertified({ contact: ['tel:9000022223'] });
    const next = await eventually(() => sink.delivered('9000022223')[0]);
    expect(next.text).toMatch(/^Hello Ravi Kumar: Covishield dose 1 of 2/);

    await ports.store.put(ports.templatesKey.key, JSON.stringify(ports.defaults));
    await eventually(() => (ports.registry.version(ports.templatesKey) > version ? true : undefined));
  });

  it('retries a failing gateway: three failures, then exactly one delivered message', async () => {
    sink.script('9000033333', [503, 502, 429]);
    const event = await publishCertified({ contact: ['tel:9000033333'] });
    const [row] = await eventually(async () => {
      const found = await rows(event.certificateId);
      return found[0]?.status === 'sent' ? found : undefined;
    });
    expect(row?.attempts).toBe(4);
    expect(sink.to('9000033333').map((request) => request.status)).toEqual([503, 502, 429, 200]);
    expect(sink.delivered('9000033333')).toHaveLength(1);
    expect(dlq.letters.filter((letter) => letter.key === 'tel:9000033333')).toHaveLength(0);
  });

  it('dead-letters a message still failing after NOTIFY_MAX_ATTEMPTS: one notify.dlq entry with the reason', async () => {
    sink.script('9000044444', [503], true);
    const event = await publishCertified({ contact: ['tel:9000044444'] });
    const letter = await eventually(() => dlq.letters.find((message) => message.key === 'tel:9000044444'));

    expect(letter.topic).toBe('notify.dlq');
    expect(letter.headers[DEAD_LETTER_HEADERS.error]).toMatch(
      /still failing after 5 attempts: the SMS gateway answered 503/,
    );
    expect(letter.headers[DEAD_LETTER_HEADERS.attempts]).toBe('5');
    expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe('notify');
    expect(letter.headers['divoc-source-topic']).toBe('certified');
    expect(letter.headers[NOTIFICATION_ID_HEADER]).toBe(`certified:${event.certificateId}`);
    // A notify event for exactly this message: `divoc dlq replay notify` retries it and nothing else.
    const replayable = NotifyEvent.parse(JSON.parse(letter.value.toString('utf8')));
    expect(replayable).toMatchObject({
      recipient: 'tel:9000044444',
      template: 'recipientCertified',
      data: { certificateId: event.certificateId },
    });
    const [row] = await rows(event.certificateId);
    expect(row).toMatchObject({ status: 'failed', attempts: 5 });
    expect(row?.lastError).toMatch(/503/);
    expect(sink.to('9000044444')).toHaveLength(5);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dlq.letters.filter((message) => message.key === 'tel:9000044444')).toHaveLength(1);
  });

  it('dead-letters permanent failures at once: a 4xx from the gateway, a mailbox the SMTP server refuses', async () => {
    sink.script('9000055555', [400], true);
    const event = await publishCertified({ contact: ['tel:9000055555', 'mailto:bounce.me@example.org'] });
    const letters = await eventually(() => {
      const found = dlq.letters.filter(
        (letter) => letter.headers[NOTIFICATION_ID_HEADER] === `certified:${event.certificateId}`,
      );
      return found.length === 2 ? found : undefined;
    });
    const sms = letters.find((letter) => letter.key === 'tel:9000055555');
    const mail = letters.find((letter) => letter.key === 'mailto:bounce.me@example.org');
    expect(sms?.headers[DEAD_LETTER_HEADERS.error]).toMatch(/^permanent failure: the SMS gateway answered 400/);
    expect(sms?.headers[DEAD_LETTER_HEADERS.attempts]).toBe('1');
    expect(mail?.headers[DEAD_LETTER_HEADERS.error]).toMatch(/^permanent failure: SMTP EENVELOPE 550/);
    // The reasons quote the gateway's and the server's answers, with the recipient masked.
    for (const letter of letters) {
      expect(letter.headers[DEAD_LETTER_HEADERS.error]).not.toMatch(/9000055555|bounce\.me@/);
    }
    expect(sink.to('9000055555')).toHaveLength(1);
  });

  it('retries a mailbox that is temporarily unavailable (SMTP 4xx) before giving up', async () => {
    const event = await publishCertified({ contact: ['mailto:later@example.org'] });
    const letter = await eventually(() =>
      dlq.letters.find((message) => message.headers[NOTIFICATION_ID_HEADER] === `certified:${event.certificateId}`),
    );
    expect(letter.headers[DEAD_LETTER_HEADERS.error]).toMatch(/still failing after 5 attempts: SMTP EENVELOPE 451/);
  });

  it('sends nothing twice when the same certified event is delivered again', async () => {
    const event = await publishCertified({ contact: ['tel:9000066666', 'mailto:asha@example.org'] });
    await eventually(async () => {
      const found = await rows(event.certificateId);
      return found.length === 2 && found.every((row) => row.status === 'sent') ? true : undefined;
    });
    const duplicates = (await counter('duplicate', 'sms')) + (await counter('duplicate', 'email'));
    await ports.bus.publish(TOPICS.certified, [{ key: event.preEnrollmentCode, value: JSON.stringify(event) }]);
    await eventually(async () =>
      (await counter('duplicate', 'sms')) + (await counter('duplicate', 'email')) === duplicates + 2 ? true : undefined,
    );
    expect(sink.to('9000066666')).toHaveLength(1);
    expect(smtp.to('asha@example.org')).toHaveLength(1);
    expect((await rows(event.certificateId)).map((row) => row.attempts)).toEqual([1, 1]);
  });

  it('tells the beneficiary about a revocation with recipientRevoked (NOTIFY_ON_REVOKE)', async () => {
    const revoked = {
      certificateId: 'C-revoked-1',
      preEnrollmentCode: 'P-revoked-1',
      dose: 2,
      reason: 'issued in error',
      revokedAt: '2021-06-01T10:00:00.000Z',
      contact: ['tel:9000088888'],
    };
    used.push('9000088888');
    await ports.bus.publish(TOPICS.revoked, [{ key: revoked.preEnrollmentCode, value: JSON.stringify(revoked) }]);
    const sms = await eventually(() => sink.delivered('9000088888')[0]);
    expect(sms.text).toBe(
      'Your certificate C-revoked-1 for dose 2 has been revoked (issued in error). Please contact your vaccination centre.',
    );
    expect((await findNotifications(ports.db, 'revoked:C-revoked-1'))[0]).toMatchObject({ status: 'sent' });
  });

  it('lets only one of two workers claim the same message, and none once it is sent', async () => {
    const row = {
      dedupeKey: 'certified:C-claim-1',
      channel: 'sms' as const,
      template: 'recipientCertified',
      recipientHash: 'hash-1',
      recipientMasked: '******0000',
      sourceTopic: 'certified',
    };
    const claims = await Promise.all([1, 2, 3].map(() => claimNotification(ports.db, row, { leaseMs: 30_000 })));
    expect(claims.map((claim) => claim.status).sort()).toEqual(['busy', 'busy', 'claimed']);
    const claimed = claims.find((claim) => claim.status === 'claimed');
    await markNotificationSent(ports.db, claimed?.id ?? 0);
    expect((await claimNotification(ports.db, row, { leaseMs: 30_000 })).status).toBe('sent');
  });

  it('dead-letters a message that is not a certified event into certified.dlq, with the reason', async () => {
    await ports.bus.publish(TOPICS.certified, [{ key: 'P-broken', value: JSON.stringify({ certificateId: 'x' }) }]);
    const letter = await eventually(() => dlq.letters.find((message) => message.key === 'P-broken'));
    expect(letter.topic).toBe('certified.dlq');
    expect(letter.headers[DEAD_LETTER_HEADERS.error]).toMatch(/^not a certified event: /);
  });

  it('never logs a phone number or an email address in clear', () => {
    const text = logs.text();
    expect(text).toContain('******1111');
    expect(text).toContain('r***@example.org');
    for (const contact of used) expect(text).not.toContain(contact);
    // Any number that could be a phone number (ids such as "Cmwydv942173zch" may hold digit runs: not standalone).
    expect(text.match(/(?<![A-Za-z0-9])\+?\d{7,15}(?![A-Za-z0-9])/g)).toBeNull();
    expect(text.match(/[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[a-z]{2,}/g)).toBeNull();
  });
});

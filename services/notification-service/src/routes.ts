import { randomUUID } from 'node:crypto';
import {
  contactUri,
  DERIVED_NOTIFICATION_FIELDS,
  ErrorEnvelope,
  type FieldError,
  NOTIFICATION_ID_HEADER,
  type NotificationField,
  NotifyEvent,
  notificationField,
  TOPICS,
  toFieldErrors,
} from '@divoc/contracts';
import { badRequest, type EventBus, type HttpApp, type Logger } from '@divoc/platform';
import { z } from 'zod';
import type { ChannelKind } from './channels/port.js';
import { channelOf } from './deliver.js';
import { maskRecipient } from './mask.js';
import type { NotificationMetrics } from './metrics.js';
import { downloadUrlNeeds, type Renderer } from './render.js';

export const NOTIFICATION_PATH = '/divoc/notification-service/v1/notification';

const dataValue = z.union([z.string().max(500, 'must be at most 500 characters'), z.number()]);

/**
 * DIVOC's NotificationRequest had `{recipient, message, subject}`: free text from anyone to anyone. Ours
 * names a template of NOTIFICATION_TEMPLATES and the values of its placeholders (decision 0012).
 */
export const NotificationRequest = z.strictObject({
  recipient: contactUri.meta({ description: '"tel:<number>" (SMS) or "mailto:<address>" (email).' }),
  template: z
    .string()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .meta({ description: 'A key of the etcd value NOTIFICATION_TEMPLATES, e.g. recipientCertified.' }),
  data: z.record(z.string().max(50, 'must be at most 50 characters'), dataValue).default({}).meta({
    description:
      'The values of the template placeholders, by field name (name, product, certificateId, preEnrollmentCode, programId, dose, totalDoses, issuedAt, reason, revokedAt, facilityName, admins, field, value). downloadUrl is built by the service.',
  }),
});

const Accepted = z.object({ id: z.string().meta({ description: 'The id of the notification.' }) });

export interface NotificationRouteDeps {
  bus: EventBus;
  logger: Logger;
  metrics: NotificationMetrics;
  renderer: Renderer;
  enabled: Record<ChannelKind, boolean>;
  downloadUrl: string;
}

const FREE_TEXT_FIELDS = ['message', 'subject'];

/** Every problem of a request body, as field errors (empty = acceptable). */
const problemsOf = (
  body: z.infer<typeof NotificationRequest>,
  { renderer, enabled, downloadUrl }: NotificationRouteDeps,
): FieldError[] => {
  const problems: FieldError[] = [];
  const kind = channelOf(body.recipient);
  if (!enabled[kind]) {
    problems.push({
      path: 'recipient',
      message: `${kind === 'sms' ? 'SMS' : 'email'} notifications are disabled on this installation`,
    });
  }
  if (renderer.template(body.template) === undefined) {
    problems.push({ path: 'template', message: `"${body.template}" is not a template of NOTIFICATION_TEMPLATES` });
    return problems;
  }
  const given = new Set<NotificationField>();
  for (const name of Object.keys(body.data)) {
    const field = notificationField(name);
    if (field === undefined) {
      problems.push({ path: `data.${name}`, message: 'is not a notification field' });
    } else if (DERIVED_NOTIFICATION_FIELDS.includes(field)) {
      problems.push({ path: `data.${name}`, message: 'is built by the service from CERTIFICATE_DOWNLOAD_URL' });
    } else {
      given.add(field);
    }
  }
  const needed = renderer
    .fieldsOf(body.template)
    .flatMap((field) => (field === 'downloadUrl' ? downloadUrlNeeds(downloadUrl) : [field]));
  for (const field of new Set(needed)) {
    if (!given.has(field)) {
      problems.push({ path: `data.${field}`, message: `is required by template "${body.template}"` });
    }
  }
  return problems;
};

/**
 * POST /divoc/notification-service/v1/notification (role `api`): checks the request, then publishes a
 * `notify` event, so the message takes the same path as every other one — delivery log, retries, dead
 * letters. Answers 202 with the notification id; 400 naming the field for anything it cannot send.
 */
export const registerNotificationRoutes = (app: HttpApp, deps: NotificationRouteDeps): void => {
  app.post(
    NOTIFICATION_PATH,
    {
      // Checked in the handler, so that every problem is a 400 naming its field.
      attachValidation: true,
      schema: {
        summary: 'Send a templated SMS or email to one recipient',
        description:
          'Renders a template of NOTIFICATION_TEMPLATES with the given data and sends it through the notify topic (delivery log, retries, notify.dlq). Free text is not accepted.',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        body: NotificationRequest,
        response: { 202: Accepted, 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope },
      },
    },
    async (request, reply) => {
      const raw = request.body as unknown;
      if (raw !== null && typeof raw === 'object') {
        const freeText = FREE_TEXT_FIELDS.filter((field) => field in raw);
        if (freeText.length > 0) {
          throw badRequest(
            'free text is not accepted: name a template of NOTIFICATION_TEMPLATES and give its data',
            freeText.map((field) => ({ path: field, message: 'is not accepted; use "template" and "data"' })),
          );
        }
      }
      const parsed = NotificationRequest.safeParse(raw);
      if (!parsed.success) throw badRequest('the request body is invalid', toFieldErrors(parsed.error.issues));
      const body = parsed.data;
      const problems = problemsOf(body, deps);
      if (problems.length > 0) throw badRequest('the notification cannot be sent', problems);

      const data = Object.fromEntries(
        Object.entries(body.data).map(([name, value]) => [notificationField(name) as NotificationField, value]),
      );
      const event = NotifyEvent.parse({ recipient: body.recipient, template: body.template, data });
      const id = randomUUID();
      await deps.bus.publish(TOPICS.notify, [
        { key: event.recipient, value: JSON.stringify(event), headers: { [NOTIFICATION_ID_HEADER]: `notify:${id}` } },
      ]);
      const channel = channelOf(event.recipient);
      deps.metrics.accepted.inc({ channel });
      deps.logger.info(
        {
          notificationId: id,
          actor: request.principal?.actor,
          channel,
          to: maskRecipient(event.recipient),
          template: event.template,
        },
        'notification accepted',
      );
      return reply.status(202).send({ id });
    },
  );
};

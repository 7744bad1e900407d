import { Counter, type Registry } from '@divoc/platform';

export type NotificationOutcome = 'sent' | 'duplicate' | 'skipped' | 'retried' | 'dead_lettered';

export interface NotificationMetrics {
  /** Messages by channel and outcome: sent, duplicate (already sent), skipped (channel disabled), retried, dead_lettered. */
  outcomes: Counter<'channel' | 'outcome'>;
  /** Messages accepted by the notification endpoint. */
  accepted: Counter<'channel'>;
}

export const createNotificationMetrics = (registry: Registry): NotificationMetrics => ({
  outcomes: new Counter({
    name: 'divoc_notifications_total',
    help: 'Notification attempts and results by channel and outcome (dead_lettered went to notify.dlq)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  }),
  accepted: new Counter({
    name: 'divoc_notification_requests_total',
    help: 'Notifications accepted by POST /divoc/notification-service/v1/notification, by channel',
    labelNames: ['channel'],
    registers: [registry],
  }),
});

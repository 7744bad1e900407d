import type { Queryable } from '@divoc/platform';

export type NotificationChannel = 'sms' | 'email';
export type NotificationStatus = 'pending' | 'sent' | 'failed';

/** What identifies one message to send (the UNIQUE key of the delivery log) and how it is shown. */
export interface NotificationDelivery {
  /** 'certified:<certificateId>', 'revoked:<certificateId>' or 'notify:<id>'. */
  dedupeKey: string;
  channel: NotificationChannel;
  template: string;
  /** A hash of the recipient: tells two contacts apart without storing them. */
  recipientHash: string;
  /** The recipient as logs and operators may see it (e.g. ******2345). */
  recipientMasked: string;
  sourceTopic: string;
}

export type ClaimResult =
  /** This worker may send now: the attempt is counted, the row is leased for `leaseMs`. */
  | { status: 'claimed'; id: number; attempts: number }
  /** Already delivered: send nothing. */
  | { status: 'sent'; id: number }
  /** Another worker holds the lease (it is sending the same message right now). */
  | { status: 'busy'; id: number };

/**
 * Claims a message before an attempt: creates its row on first sight, then takes it if it is not sent
 * and nobody else holds it, counting the attempt. One statement decides, so two workers handed the same
 * event never both send.
 */
export const claimNotification = async (
  db: Queryable,
  delivery: NotificationDelivery,
  { leaseMs }: { leaseMs: number },
): Promise<ClaimResult> => {
  const key = [delivery.dedupeKey, delivery.channel, delivery.template, delivery.recipientHash];
  await db.query(
    `INSERT INTO notifications (dedupe_key, channel, template, recipient_hash, recipient_masked, source_topic)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [...key, delivery.recipientMasked, delivery.sourceTopic],
  );
  const claimed = await db.query<{ id: string | number; attempts: number }>(
    `UPDATE notifications
     SET attempts = attempts + 1, status = 'pending', locked_until = now() + make_interval(secs => $5),
         updated_at = now()
     WHERE dedupe_key = $1 AND channel = $2 AND template = $3 AND recipient_hash = $4
       AND status <> 'sent' AND (locked_until IS NULL OR locked_until <= now())
     RETURNING id, attempts`,
    [...key, leaseMs / 1000],
  );
  const row = claimed.rows[0];
  if (row) return { status: 'claimed', id: Number(row.id), attempts: row.attempts };
  const current = await db.query<{ id: string | number; status: NotificationStatus }>(
    `SELECT id, status FROM notifications
     WHERE dedupe_key = $1 AND channel = $2 AND template = $3 AND recipient_hash = $4`,
    key,
  );
  const existing = current.rows[0];
  if (!existing) throw new Error('notification row vanished while it was claimed');
  return { status: existing.status === 'sent' ? 'sent' : 'busy', id: Number(existing.id) };
};

/** The message was accepted by the gateway or SMTP server: never send it again. */
export const markNotificationSent = async (
  db: Queryable,
  id: number,
  { providerRef }: { providerRef?: string | undefined } = {},
): Promise<void> => {
  await db.query(
    `UPDATE notifications SET status = 'sent', sent_at = now(), updated_at = now(), locked_until = NULL,
       last_error = NULL, provider_ref = $2
     WHERE id = $1`,
    [id, providerRef ?? null],
  );
};

/**
 * An attempt failed: the lease is released. `final` marks the row failed (it was dead-lettered); otherwise
 * it stays pending for the next attempt. A failed row is sent again if its event is replayed.
 */
export const markNotificationFailed = async (
  db: Queryable,
  id: number,
  { error, final }: { error: string; final: boolean },
): Promise<void> => {
  await db.query(
    `UPDATE notifications SET status = $2, last_error = $3, updated_at = now(), locked_until = NULL WHERE id = $1`,
    [id, final ? 'failed' : 'pending', error],
  );
};

export interface NotificationRow {
  id: number;
  dedupeKey: string;
  channel: NotificationChannel;
  template: string;
  recipientMasked: string;
  sourceTopic: string;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  providerRef: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

/** The delivery log of one certificate, revocation or notify event (for operators and tests). */
export const findNotifications = async (db: Queryable, dedupeKey: string): Promise<NotificationRow[]> =>
  (
    await db.query<NotificationRow & { id: string | number }>(
      `SELECT id, dedupe_key AS "dedupeKey", channel, template, recipient_masked AS "recipientMasked",
              source_topic AS "sourceTopic", status, attempts, last_error AS "lastError", provider_ref AS "providerRef",
              created_at AS "createdAt", updated_at AS "updatedAt", sent_at AS "sentAt"
       FROM notifications WHERE dedupe_key = $1 ORDER BY id`,
      [dedupeKey],
    )
  ).rows.map((row) => ({ ...row, id: Number(row.id) }));

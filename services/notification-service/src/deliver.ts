import { setTimeout as delay } from 'node:timers/promises';
import type { Database, Logger } from '@divoc/platform';
import { claimNotification, markNotificationFailed, markNotificationSent } from '@divoc/store';
import { type Channel, type ChannelKind, DeliveryError } from './channels/port.js';
import { maskRecipient, maskText, recipientHash } from './mask.js';
import type { NotificationMetrics } from './metrics.js';
import { RenderError, type Renderer } from './render.js';

/** One message to send: to one recipient, from one template. */
export interface Delivery {
  /** Identifies the event the message belongs to: 'certified:<id>', 'revoked:<id>', 'notify:<id>'. */
  dedupeKey: string;
  sourceTopic: string;
  /** `tel:…` or `mailto:…` */
  recipient: string;
  template: string;
  /** The values the template is filled with (derived ones such as downloadUrl are computed). */
  data: Record<string, string | number>;
}

export type DeliveryOutcome =
  | { status: 'sent' }
  /** Sent before (a redelivered or replayed event): nothing sent now. */
  | { status: 'duplicate' }
  /** The channel is disabled and the event does not insist (certified/revoked). */
  | { status: 'skipped' }
  /** Given up: permanent, or still failing after the allowed attempts. Goes to notify.dlq. */
  | { status: 'failed'; reason: string; attempts: number };

export interface RetrySettings {
  /** Attempts per delivery of an event before it is dead-lettered (NOTIFY_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** First wait between attempts, doubled up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /**
   * The longest one delivery may keep its partition busy (attempts and waits): when the next wait would
   * end past it, the delivery is dead-lettered even before `maxAttempts`.
   */
  budgetMs: number;
  /** The longest one attempt may take (gateway or SMTP server not answering). */
  sendTimeoutMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 5,
  initialMs: 500,
  maxMs: 4_000,
  budgetMs: 15_000,
  sendTimeoutMs: 5_000,
};

export interface DelivererDeps {
  db: Database;
  logger: Logger;
  metrics: NotificationMetrics;
  channels: Partial<Record<ChannelKind, Channel>>;
  renderer: Renderer;
  retry: RetrySettings;
  /** Aborted when the service stops: waits end and the event is left for redelivery. */
  stopping: () => AbortSignal;
}

export const channelOf = (recipient: string): ChannelKind => (recipient.startsWith('tel:') ? 'sms' : 'email');

/** Thrown when the message must be tried again later by redelivering its event (the batch is retried). */
export class RetryLater extends Error {}

const backoff = (retry: RetrySettings, attempt: number): number =>
  Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt - 1, 30));

const sleep = async (ms: number, signal: AbortSignal): Promise<boolean> => {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
};

/**
 * Sends one message at most once per success: claim the delivery-log row (created on first sight), send,
 * record the result. A row already `sent` is never sent again; a row another worker holds makes the
 * event come back later. Transient failures are retried here with exponential backoff, bounded by
 * `maxAttempts` and `budgetMs`; a permanent failure, or the last transient one, marks the row failed and
 * is returned for the dead-letter topic. A crash between the gateway's acceptance and the `sent` mark
 * can still send a message twice (at-least-once): no gateway offers a way to ask.
 */
export const createDeliverer = (deps: DelivererDeps) => {
  const { db, logger, metrics, channels, renderer, retry } = deps;
  const leaseMs = retry.sendTimeoutMs * 2 + 5_000;

  const attempt = async (channel: Channel, delivery: Delivery, signal: AbortSignal): Promise<string | undefined> => {
    const rendered = renderer.render(delivery.template, delivery.data);
    const to = delivery.recipient.slice(delivery.recipient.indexOf(':') + 1);
    const timeout = AbortSignal.timeout(retry.sendTimeoutMs);
    const result = await channel.send(
      { to, text: rendered.text, subject: rendered.subject ?? rendered.text.slice(0, 78), html: rendered.html },
      AbortSignal.any([timeout, signal]),
    );
    return result.ref;
  };

  return async (delivery: Delivery, whenDisabled: 'skip' | 'fail'): Promise<DeliveryOutcome> => {
    const kind = channelOf(delivery.recipient);
    const context = {
      dedupeKey: delivery.dedupeKey,
      channel: kind,
      template: delivery.template,
      to: maskRecipient(delivery.recipient),
    };
    const channel = channels[kind];
    if (!channel) {
      const reason = `the ${kind} channel is disabled (${kind === 'sms' ? 'ENABLE_SMS' : 'ENABLE_EMAIL'}=false)`;
      metrics.outcomes.inc({ channel: kind, outcome: whenDisabled === 'skip' ? 'skipped' : 'dead_lettered' });
      logger.debug(context, `notification not sent: ${reason}`);
      return whenDisabled === 'skip' ? { status: 'skipped' } : { status: 'failed', reason, attempts: 0 };
    }
    const row = {
      dedupeKey: delivery.dedupeKey,
      channel: kind,
      template: delivery.template,
      recipientHash: recipientHash(delivery.recipient),
      recipientMasked: context.to,
      sourceTopic: delivery.sourceTopic,
    };
    const started = Date.now();
    for (let count = 1; ; count += 1) {
      const signal = deps.stopping();
      if (signal.aborted) throw new RetryLater('the service is stopping; the event will be delivered again');
      const claim = await claimNotification(db, row, { leaseMs });
      if (claim.status === 'sent') {
        metrics.outcomes.inc({ channel: kind, outcome: 'duplicate' });
        logger.info(context, 'notification already sent; not sending it again');
        return { status: 'duplicate' };
      }
      if (claim.status === 'busy') {
        throw new RetryLater(`notification ${delivery.dedupeKey} (${kind}) is being sent by another worker`);
      }

      let failure: DeliveryError;
      try {
        const ref = await attempt(channel, delivery, signal);
        await markNotificationSent(db, claim.id, { providerRef: ref });
        metrics.outcomes.inc({ channel: kind, outcome: 'sent' });
        logger.info({ ...context, attempts: claim.attempts }, 'notification sent');
        return { status: 'sent' };
      } catch (error) {
        if (error instanceof DeliveryError) failure = error;
        else if (error instanceof RenderError) failure = new DeliveryError(error.message, true);
        else
          failure = new DeliveryError(`${kind} channel failed: ${(error as Error)?.message ?? String(error)}`, false);
      }
      const reason = maskText(failure.message);
      if (signal.aborted) {
        await markNotificationFailed(db, claim.id, { error: reason, final: false });
        throw new RetryLater('the service is stopping; the event will be delivered again');
      }
      const wait = backoff(retry, count);
      const outOfBudget = Date.now() - started + wait > retry.budgetMs;
      const final = failure.permanent || count >= retry.maxAttempts || outOfBudget;
      await markNotificationFailed(db, claim.id, { error: reason, final });
      if (final) {
        const why = failure.permanent
          ? `permanent failure: ${reason}`
          : `still failing after ${count} attempt${count === 1 ? '' : 's'}${outOfBudget && count < retry.maxAttempts ? ` (retry budget of ${retry.budgetMs} ms spent)` : ''}: ${reason}`;
        metrics.outcomes.inc({ channel: kind, outcome: 'dead_lettered' });
        logger.warn({ ...context, attempts: count, err: reason }, 'notification failed; dead-lettering it');
        return { status: 'failed', reason: why, attempts: count };
      }
      metrics.outcomes.inc({ channel: kind, outcome: 'retried' });
      logger.info(
        { ...context, attempt: count, retryInMs: wait, err: reason },
        'notification attempt failed; retrying',
      );
      if (!(await sleep(wait, signal))) {
        throw new RetryLater('the service is stopping; the event will be delivered again');
      }
    }
  };
};
export type Deliverer = ReturnType<typeof createDeliverer>;

import { RevokeCertEvent, type RevokedEvent, TOPICS } from '@divoc/contracts';
import type { BusMessage, Database, HandleResult, Logger } from '@divoc/platform';
import { enqueueEvents, type OutboxRelay, revokeDoses } from '@divoc/store';

/**
 * Applies `revoke_cert` requests: in one transaction per request, the certificates are marked revoked
 * (with reason, actor and time), their status bits set, and the `revoked` events put in the outbox —
 * then published. Certificates already revoked are left alone, so a redelivered request changes nothing
 * and publishes nothing new.
 */
export const createRevocationHandler =
  ({ db, relay, logger }: { db: Database; relay: OutboxRelay; logger: Logger }) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const failed: NonNullable<HandleResult['failed']> = [];
    for (const message of messages) {
      let parsed: ReturnType<typeof RevokeCertEvent.safeParse>;
      try {
        parsed = RevokeCertEvent.safeParse(JSON.parse(message.value.toString('utf8')));
      } catch {
        failed.push({ message, error: 'the message is not JSON' });
        continue;
      }
      if (!parsed.success || (parsed.data.allDoses !== true && (parsed.data.doses ?? []).length === 0)) {
        failed.push({ message, error: 'not a revoke_cert event (doses or allDoses required)' });
        continue;
      }
      const request = parsed.data;
      const at = new Date();
      const { ids, events } = await db.transaction(async (tx) => {
        const revoked = await revokeDoses(tx, {
          preEnrollmentCode: request.preEnrollmentCode,
          doses: request.allDoses === true ? undefined : request.doses,
          reason: request.reason,
          actor: request.actor,
          requestId: request.requestId,
          at,
        });
        const outgoing = revoked.map((certificate) => {
          const event: RevokedEvent = {
            certificateId: certificate.certificateId,
            preEnrollmentCode: certificate.preEnrollmentCode,
            dose: certificate.dose,
            reason: request.reason,
            revokedAt: at.toISOString(),
          };
          return { topic: TOPICS.revoked, key: certificate.preEnrollmentCode, value: JSON.stringify(event) };
        });
        return { ids: await enqueueEvents(tx, outgoing), events: outgoing };
      });
      if (events.length > 0) {
        await relay.publishCommitted(ids, events).catch((error: unknown) => {
          logger.warn({ err: error }, 'publishing revoked events failed; the outbox will retry');
        });
      }
    }
    return { failed };
  };

import { type CertifiedEvent, type CertifyAckEvent, CertifyEvent, TOPICS } from '@divoc/contracts';
import type { CredentialConfig, SigningKey } from '@divoc/credentials';
import type { BusMessage, Database, EventBus, HandleResult, Logger } from '@divoc/platform';
import { insertCertificates, type NewCertificate } from '@divoc/store';
import type { SignerMetrics } from './metrics.js';
import { type PreparedCertificate, prepareCertificate, RejectedRequest } from './prepare.js';

export interface CertifyHandlerDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: SignerMetrics;
  key: () => SigningKey;
  config: () => CredentialConfig;
}

const parseEvent = (message: BusMessage): CertifyEvent | string => {
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    return 'the message is not JSON';
  }
  const parsed = CertifyEvent.safeParse(json);
  return parsed.success
    ? parsed.data
    : `not a certify event: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`;
};

const requestIdOf = (message: BusMessage): string | undefined => {
  try {
    const id = (JSON.parse(message.value.toString('utf8')) as { requestId?: unknown }).requestId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Handles a batch of `certify` events from one partition: build and sign each credential, store the
 * batch in one transaction (the unique indexes make redeliveries and duplicates harmless), then
 * publish `certify_ack` for every request and `certified` for every stored certificate. Throwing
 * (database or bus unavailable) makes the bus retry the same batch; requests that can never succeed
 * are acknowledged as failed and dead-lettered with the reason.
 */
export const createCertifyHandler =
  (deps: CertifyHandlerDeps) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const { db, bus, logger, metrics } = deps;
    const now = new Date();
    const at = now.toISOString();
    const failed: NonNullable<HandleResult['failed']> = [];
    const acks: CertifyAckEvent[] = [];
    const prepared: PreparedCertificate[] = [];
    const key = deps.key();
    const config = deps.config();

    for (const message of messages) {
      const event = parseEvent(message);
      if (typeof event === 'string') {
        failed.push({ message, error: event });
        const requestId = requestIdOf(message);
        if (requestId && message.key)
          acks.push({ requestId, preEnrollmentCode: message.key, status: 'failed', error: event, at });
        continue;
      }
      try {
        prepared.push(await prepareCertificate(event, { config, key, now }));
      } catch (error) {
        if (!(error instanceof RejectedRequest)) throw error;
        failed.push({ message, error: error.message });
        const preEnrollmentCode = String(event.payload.preEnrollmentCode ?? message.key ?? '');
        acks.push({
          requestId: event.requestId,
          preEnrollmentCode,
          status: 'failed',
          error: error.message,
          ...(event.upload ? { upload: event.upload } : {}),
          at,
        });
      }
    }

    const outcomes = await db.transaction((tx) =>
      insertCertificates(
        tx,
        prepared.map((item) => item.row as NewCertificate),
      ),
    );
    const certified: CertifiedEvent[] = [];
    outcomes.forEach((outcome, index) => {
      const item = prepared[index] as PreparedCertificate;
      const preEnrollmentCode = item.row.preEnrollmentCode;
      if (outcome.status === 'duplicate') {
        acks.push({
          requestId: outcome.requestId,
          preEnrollmentCode,
          status: 'duplicate',
          certificateId: outcome.existingCertificateId,
          error: `an active certificate already exists for this ${item.row.kind === 'test' ? 'test' : `dose (${item.row.dose})`}`,
          at,
        });
        return;
      }
      acks.push({
        requestId: outcome.requestId,
        preEnrollmentCode,
        status: 'issued',
        certificateId: outcome.certificateId,
        at,
      });
      // Published again after a redelivery: the first attempt may have stored but not published.
      certified.push({ ...item.certified, certificateId: outcome.certificateId, issuedAt: at });
      if (!outcome.alreadyIssued) metrics.issued.inc({ kind: item.row.kind });
    });

    await Promise.all([
      acks.length > 0
        ? bus.publish(
            TOPICS.certifyAck,
            acks.map((ack) => ({ key: ack.preEnrollmentCode, value: JSON.stringify(ack) })),
          )
        : undefined,
      certified.length > 0
        ? bus.publish(
            TOPICS.certified,
            certified.map((event) => ({ key: event.preEnrollmentCode, value: JSON.stringify(event) })),
          )
        : undefined,
    ]);
    for (const ack of acks) metrics.outcomes.inc({ status: ack.status });
    if (failed.length > 0) logger.warn({ count: failed.length }, 'rejected certify requests (dead-lettered)');
    return { failed };
  };

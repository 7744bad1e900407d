import { type CertifiedEvent, type CertifyAckEvent, CertifyEvent, TOPICS } from '@divoc/contracts';
import { type CredentialConfig, type SigningKey, statusEntry } from '@divoc/credentials';
import type { BusMessage, Database, EventBus, HandleResult, Logger, Queryable } from '@divoc/platform';
import {
  allocateStatusEntries,
  countUpdates,
  type InsertOutcome,
  insertCertificates,
  lockActiveCertificate,
  type NewCertificate,
  releaseStatusEntries,
  supersede,
} from '@divoc/store';
import type { SignerMetrics } from './metrics.js';
import { type PlannedCertificate, planCertificate, RejectedRequest, signPlanned } from './prepare.js';

export interface CertifyHandlerDeps {
  db: Database;
  bus: EventBus;
  logger: Logger;
  metrics: SignerMetrics;
  key: () => SigningKey;
  config: () => CredentialConfig;
  /** The URL of status list `listId` (CERTIFICATE_STATUS_BASE_URL + id). */
  statusListUrl: (listId: number) => string;
  /** CERTIFICATE_UPDATE_LIMIT: updates allowed per dose. */
  updateLimit: number;
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

/** Work out of one batch, published together after the database commits. */
interface Outcomes {
  acks: CertifyAckEvent[];
  certified: CertifiedEvent[];
  failed: NonNullable<HandleResult['failed']>;
}

/**
 * Handles a batch of `certify` events from one partition, in order: consecutive new certificates are
 * built, signed (each with a random status list bit) and stored in one transaction — the unique
 * indexes make redeliveries and duplicates harmless; an update supersedes the active certificate of its
 * dose and stores the new one in one transaction of its own. Then `certify_ack` (every request) and
 * `certified` (every stored certificate) are published. Throwing (database or bus unavailable) makes the
 * bus retry the batch; requests that can never succeed are acknowledged as failed and dead-lettered.
 */
export const createCertifyHandler = (deps: CertifyHandlerDeps) => {
  const { db, bus, logger, metrics } = deps;

  const sign = async (
    tx: Queryable,
    plans: PlannedCertificate[],
    key: SigningKey,
    now: Date,
    overrides?: Partial<NewCertificate>,
  ) => {
    const entries = await allocateStatusEntries(
      tx,
      plans.map((plan) => plan.row.certificateId),
    );
    const rows: NewCertificate[] = [];
    for (const plan of plans) {
      const entry = entries.get(plan.row.certificateId);
      const status = entry === undefined ? undefined : statusEntry(deps.statusListUrl(entry.listId), entry.index);
      rows.push({ ...(await signPlanned(plan, { key, status, now })), ...overrides });
    }
    const outcomes = await insertCertificates(tx, rows);
    // Bits reserved for certificates that were not stored now go back to the pool.
    const unused = outcomes.flatMap((outcome, index) =>
      outcome.status === 'issued' && !outcome.alreadyIssued ? [] : [(rows[index] as NewCertificate).certificateId],
    );
    await releaseStatusEntries(tx, unused);
    return outcomes;
  };

  const record = (
    out: Outcomes,
    plan: PlannedCertificate,
    outcome: InsertOutcome,
    at: string,
    previousCertificateId?: string,
  ) => {
    const preEnrollmentCode = plan.row.preEnrollmentCode;
    // A bulk row's ack names its upload row, so the processor counts it without a lookup.
    const upload = plan.event.upload ? { upload: plan.event.upload } : {};
    if (outcome.status === 'duplicate') {
      out.acks.push({
        requestId: outcome.requestId,
        preEnrollmentCode,
        status: 'duplicate',
        certificateId: outcome.existingCertificateId,
        error: `an active certificate already exists for this ${plan.row.kind === 'test' ? 'test' : `dose (${plan.row.dose})`}`,
        ...upload,
        at,
      });
      return;
    }
    out.acks.push({
      requestId: outcome.requestId,
      preEnrollmentCode,
      status: 'issued',
      certificateId: outcome.certificateId,
      ...upload,
      at,
    });
    // Published again after a redelivery: the first attempt may have stored but not published.
    out.certified.push({
      ...plan.certified,
      ...(previousCertificateId ? { previousCertificateId } : {}),
      certificateId: outcome.certificateId,
      issuedAt: at,
    });
    if (!outcome.alreadyIssued) metrics.issued.inc({ kind: plan.row.kind });
  };

  const certifyRun = async (out: Outcomes, plans: PlannedCertificate[], key: SigningKey, now: Date) => {
    if (plans.length === 0) return;
    const outcomes = await db.transaction((tx) => sign(tx, plans, key, now));
    for (const [index, outcome] of outcomes.entries())
      record(out, plans[index] as PlannedCertificate, outcome, now.toISOString());
  };

  const update = async (out: Outcomes, plan: PlannedCertificate, key: SigningKey, now: Date) => {
    const at = now.toISOString();
    const slot = {
      preEnrollmentCode: plan.row.preEnrollmentCode,
      programId: plan.row.programId,
      kind: plan.row.kind,
      slot: plan.row.slot,
    };
    const result = await db.transaction(async (tx) => {
      const earlier = await tx.query<{ certificate_id: string; previous_certificate_id: string | null }>(
        'SELECT certificate_id, previous_certificate_id FROM certificates WHERE request_id = $1',
        [plan.row.requestId],
      );
      const stored = earlier.rows[0];
      if (stored) {
        const outcome: InsertOutcome = {
          requestId: plan.row.requestId,
          status: 'issued',
          certificateId: stored.certificate_id,
          alreadyIssued: true,
        };
        return { outcome, previous: stored.previous_certificate_id ?? undefined };
      }
      const current = await lockActiveCertificate(tx, slot);
      if (current === undefined) return { error: `there is no active certificate for dose ${plan.row.dose} to update` };
      if ((await countUpdates(tx, slot)) >= deps.updateLimit) {
        return { error: `the update limit (${deps.updateLimit}) for this dose has been reached` };
      }
      // The old certificate stops being active in the same transaction that stores the new one.
      await supersede(tx, {
        oldCertificateId: current.certificateId,
        newCertificateId: plan.row.certificateId,
        actor: plan.event.actor,
        requestId: plan.row.requestId,
        at: now,
      });
      const [outcome] = await sign(tx, [plan], key, now, {
        revision: current.revision + 1,
        previousCertificateId: current.certificateId,
      });
      return { outcome: outcome as InsertOutcome, previous: current.certificateId };
    });
    if ('error' in result) {
      out.acks.push({
        requestId: plan.row.requestId,
        preEnrollmentCode: plan.row.preEnrollmentCode,
        status: 'failed',
        error: result.error,
        ...(plan.event.upload ? { upload: plan.event.upload } : {}),
        at,
      });
      return;
    }
    record(out, plan, result.outcome, at, result.previous);
  };

  return async (messages: BusMessage[]): Promise<HandleResult> => {
    const now = new Date();
    const at = now.toISOString();
    const out: Outcomes = { acks: [], certified: [], failed: [] };
    const key = deps.key();
    const config = deps.config();
    let run: PlannedCertificate[] = [];

    for (const message of messages) {
      const event = parseEvent(message);
      if (typeof event === 'string') {
        out.failed.push({ message, error: event });
        const requestId = requestIdOf(message);
        if (requestId && message.key)
          out.acks.push({ requestId, preEnrollmentCode: message.key, status: 'failed', error: event, at });
        continue;
      }
      let plan: PlannedCertificate;
      try {
        plan = planCertificate(event, { config, now });
      } catch (error) {
        if (!(error instanceof RejectedRequest)) throw error;
        out.failed.push({ message, error: error.message });
        const preEnrollmentCode = String(event.payload.preEnrollmentCode ?? message.key ?? '');
        out.acks.push({
          requestId: event.requestId,
          preEnrollmentCode,
          status: 'failed',
          error: error.message,
          ...(event.upload ? { upload: event.upload } : {}),
          at,
        });
        continue;
      }
      if (event.operation === 'update') {
        // Keep the order of the partition: what came before the update is stored before it.
        await certifyRun(out, run, key, now);
        run = [];
        await update(out, plan, key, now);
      } else {
        run.push(plan);
      }
    }
    await certifyRun(out, run, key, now);

    await Promise.all([
      out.acks.length > 0
        ? bus.publish(
            TOPICS.certifyAck,
            out.acks.map((ack) => ({ key: ack.preEnrollmentCode, value: JSON.stringify(ack) })),
          )
        : undefined,
      out.certified.length > 0
        ? bus.publish(
            TOPICS.certified,
            out.certified.map((event) => ({ key: event.preEnrollmentCode, value: JSON.stringify(event) })),
          )
        : undefined,
    ]);
    for (const ack of out.acks) metrics.outcomes.inc({ status: ack.status });
    if (out.failed.length > 0) logger.warn({ count: out.failed.length }, 'rejected certify requests (dead-lettered)');
    return { failed: out.failed };
  };
};

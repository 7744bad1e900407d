import { CertifyAckEvent, parseBulkRequestId } from '@divoc/contracts';
import type { BusMessage, Database, HandleResult } from '@divoc/platform';
import { type RequestOutcome, recordOutcomes, recordUploadOutcomes, type UploadRowOutcome } from '@divoc/store';

/**
 * Records the outcome of each acknowledged request in the ledger, in one statement per batch, and the
 * outcome of each bulk CSV row in its upload's counters, in one more statement per batch. A bulk row
 * is recognised by the ack's `upload` reference or, failing that, by its deterministic request id. The
 * first outcome of a request wins (only a failed one can still turn issued or duplicate, after a
 * dead-letter replay), so redelivered acks change nothing and count nothing twice.
 */
export const createAckHandler =
  ({ db }: { db: Database }) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const failed: NonNullable<HandleResult['failed']> = [];
    const outcomes: RequestOutcome[] = [];
    const uploadRows: UploadRowOutcome[] = [];
    for (const message of messages) {
      let parsed: ReturnType<typeof CertifyAckEvent.safeParse>;
      try {
        parsed = CertifyAckEvent.safeParse(JSON.parse(message.value.toString('utf8')));
      } catch {
        failed.push({ message, error: 'the message is not JSON' });
        continue;
      }
      if (!parsed.success) {
        failed.push({ message, error: `not a certify_ack event: ${parsed.error.issues[0]?.message}` });
        continue;
      }
      const ack = parsed.data;
      outcomes.push({
        requestId: ack.requestId,
        status: ack.status,
        certificateId: ack.certificateId,
        error: ack.error,
        at: new Date(ack.at),
      });
      const upload = ack.upload ?? parseBulkRequestId(ack.requestId);
      if (upload !== undefined) {
        uploadRows.push({ ...upload, requestId: ack.requestId, status: ack.status, error: ack.error });
      }
    }
    await recordOutcomes(db, outcomes);
    await recordUploadOutcomes(db, uploadRows);
    return { failed };
  };

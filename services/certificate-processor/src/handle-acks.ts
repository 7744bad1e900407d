import { CertifyAckEvent } from '@divoc/contracts';
import type { BusMessage, Database, HandleResult } from '@divoc/platform';
import { type RequestOutcome, recordOutcomes } from '@divoc/store';

/**
 * Records the outcome of each acknowledged request in the ledger, in one statement per batch. The
 * first outcome of a request wins, so redelivered acks change nothing.
 */
export const createAckHandler =
  ({ db }: { db: Database }) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const failed: NonNullable<HandleResult['failed']> = [];
    const outcomes: RequestOutcome[] = [];
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
    }
    await recordOutcomes(db, outcomes);
    return { failed };
  };

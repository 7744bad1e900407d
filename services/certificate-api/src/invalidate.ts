import type { BusMessage, HandleResult, Logger } from '@divoc/platform';
import type { Artifacts } from './artifacts.js';

/**
 * `certified` and `revoked` change what a beneficiary's documents show (a new dose in the history,
 * a superseded or revoked certificate), so their cached renderings are dropped. Only the key
 * (preEnrollmentCode) is needed: both topics are keyed by it.
 */
export const createInvalidationHandler =
  ({ artifacts, logger }: { artifacts: Artifacts; logger: Logger }) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const codes = new Set(messages.map((message) => message.key).filter((key): key is string => key !== null));
    for (const code of codes) {
      await artifacts.invalidateBeneficiary(code).catch((error: unknown) => {
        // A cache that cannot be reached holds nothing we could serve stale: entries expire anyway.
        logger.warn({ err: error }, 'could not drop cached documents');
      });
    }
    return {};
  };

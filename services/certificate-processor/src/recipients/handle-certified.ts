import { CertifiedEvent, mobileKey } from '@divoc/contracts';
import type { BusMessage, HandleResult, Logger, RecipientDirectory } from '@divoc/platform';

/**
 * `certified` → a Keycloak account for each new beneficiary mobile number, after the certificate is
 * issued (never before: an account for a certificate that was not issued would be a dangling login).
 * A Keycloak failure throws, so the batch is retried with backoff and nothing is skipped; messages
 * that are not certified events are dead-lettered.
 */
export const createProvisioningHandler =
  ({ directory, logger }: { directory: RecipientDirectory; logger: Logger }) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const failed: NonNullable<HandleResult['failed']> = [];
    const mobiles: string[] = [];
    for (const message of messages) {
      let json: unknown;
      try {
        json = JSON.parse(message.value.toString('utf8'));
      } catch {
        failed.push({ message, error: 'the message is not JSON' });
        continue;
      }
      const parsed = CertifiedEvent.safeParse(json);
      if (!parsed.success) {
        failed.push({ message, error: `not a certified event: ${parsed.error.issues[0]?.message}` });
        continue;
      }
      for (const contact of parsed.data.contact) {
        if (!contact.startsWith('tel:')) continue;
        const mobile = mobileKey(contact);
        if (mobile.length === 10) mobiles.push(mobile);
      }
    }
    if (mobiles.length > 0) {
      const { created, existing } = await directory.ensureRecipients(mobiles);
      // Counts only: mobile numbers are personal data and stay out of the logs.
      logger.info({ created, existing }, 'recipient accounts provisioned');
    }
    return { failed };
  };

import { createHash } from 'node:crypto';

/**
 * Phone numbers and email addresses never reach a log line, a delivery-log row or a dead-letter reason
 * in clear (DESIGN §9): they are shown as `******2345` and `a***@example.org`.
 */

/** All but the last four digits starred: `+919000012345` → `********2345`. */
export const maskPhone = (phone: string): string => {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
};

/** The first character of the local part and the domain: `ravi@example.org` → `r***@example.org`. */
export const maskEmail = (address: string): string => {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address.slice(0, 1)}***@${address.slice(at + 1)}`;
};

/** A `tel:` or `mailto:` recipient, masked (without its scheme). */
export const maskRecipient = (recipient: string): string => {
  if (recipient.startsWith('tel:')) return maskPhone(recipient.slice('tel:'.length));
  if (recipient.startsWith('mailto:')) return maskEmail(recipient.slice('mailto:'.length));
  return '***';
};

const EMAIL_IN_TEXT = /[^\s@<>()[\]"',;:]+@[^\s@<>()[\]"',;:]+\.[^\s@<>()[\]"',;:]+/g;
/** Runs of 6 or more digits (optionally after "+"): a phone number might hide in any of them. */
const PHONE_IN_TEXT = /\+?\d{6,}/g;

/**
 * Masks every email address and every phone-like digit run in a free text (errors from SMTP servers
 * and gateways quote the recipient). Longer digit runs such as timestamps are masked too: better too
 * much than a number in clear.
 */
export const maskText = (text: string): string =>
  text.replace(EMAIL_IN_TEXT, (address) => maskEmail(address)).replace(PHONE_IN_TEXT, (run) => maskPhone(run));

/** Identifies a recipient in the delivery log without storing it (a hash of the normalised URI). */
export const recipientHash = (recipient: string): string =>
  createHash('sha256').update(recipient.trim().toLowerCase()).digest('hex');

/** How a message leaves the system: SMS through an HTTP gateway, email through SMTP. */
export type ChannelKind = 'sms' | 'email';

export interface OutgoingNotification {
  /** The address without its scheme: the number of a `tel:` URI, the address of a `mailto:` URI. */
  to: string;
  /** Plain text: the SMS, or the text part of the email. */
  text: string;
  /** Email only. */
  subject?: string | undefined;
  /** Email only: the HTML part. */
  html?: string | undefined;
}

export interface Channel {
  readonly kind: ChannelKind;
  /**
   * Resolves once the gateway or SMTP server accepted the message (with its id, when it gave one).
   * Rejects with a `DeliveryError` saying whether trying again can help; anything else thrown is
   * treated as transient. `signal` aborts the attempt (timeout or shutdown).
   */
  send(message: OutgoingNotification, signal: AbortSignal): Promise<{ ref?: string | undefined }>;
  /** Releases connections (SMTP pool). */
  close(): Promise<void>;
}

/**
 * A failed attempt. `permanent`: the same message can never succeed (invalid recipient, rejected request,
 * 4xx other than 408/429, SMTP 5xx) and goes to the dead-letter topic at once; otherwise it is retried.
 * The message must not contain a phone number or an address in clear.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** HTTP status → may another attempt succeed? (network errors never get here: they are transient) */
export const isTransientStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

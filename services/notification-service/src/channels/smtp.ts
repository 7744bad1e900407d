import nodemailer from 'nodemailer';
import { maskText } from '../mask.js';
import { type Channel, DeliveryError, type OutgoingNotification } from './port.js';

export interface SmtpChannelOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** Refuse to send over a connection that could not be upgraded with STARTTLS. */
  requireTls?: boolean;
  user?: string | undefined;
  password?: string | undefined;
  /** The From address, and the name shown with it. */
  from: string;
  fromName?: string | undefined;
  /** Connection, greeting and socket timeout (ms). */
  timeoutMs?: number;
}

/** SMTP error codes of nodemailer that another attempt cannot fix. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EAUTH', 'ENOAUTH', 'EMESSAGE', 'ECONFIG', 'EMAXRECIPIENTS']);
/** What an address may look like to be sent to (mailto: URIs can carry more than an address). */
const ADDRESS = /^[^\s@<>()[\]",;:?&]+@[^\s@<>()[\]",;:?&]+\.[^\s@<>()[\]",;:?&]+$/;

/**
 * Classifies a nodemailer error: an SMTP reply code decides when there is one (4xx transient, 5xx
 * permanent — 550 "no such user" — except 503 bad sequence); otherwise rejected envelopes and
 * authentication are permanent, connection problems transient.
 */
export const classifySmtpError = (error: unknown): DeliveryError => {
  const { code, responseCode, message } = (error ?? {}) as { code?: string; responseCode?: number; message?: string };
  const text = maskText((message ?? String(error)).replace(/\s+/g, ' ').slice(0, 300));
  const permanent =
    typeof responseCode === 'number' && responseCode >= 400
      ? responseCode >= 500 && responseCode !== 503
      : code !== undefined && PERMANENT_CODES.has(code);
  return new DeliveryError(`SMTP ${code ?? 'error'}${responseCode ? ` ${responseCode}` : ''}: ${text}`, permanent);
};

/** Email over SMTP with nodemailer (DIVOC hard-coded smtp.gmail.com:587): a pool of reused connections. */
export const createSmtpChannel = (options: SmtpChannelOptions): Channel => {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: options.host,
    port: options.port,
    secure: options.secure,
    requireTLS: options.requireTls ?? false,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
  });
  const from = options.fromName ? { name: options.fromName, address: options.from } : options.from;

  return {
    kind: 'email',
    async send(message: OutgoingNotification, signal: AbortSignal) {
      if (!ADDRESS.test(message.to)) throw new DeliveryError('invalid email address', true);
      if (signal.aborted) throw new DeliveryError('the SMTP server did not answer in time', false);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(new DeliveryError('the SMTP server did not answer in time', false));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const sending = transport.sendMail({
          from,
          to: message.to,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        sending.catch(() => undefined); // an attempt given up on may still fail later
        const info = await Promise.race([sending, aborted]);
        return { ref: info.messageId };
      } catch (error) {
        throw error instanceof DeliveryError ? error : classifySmtpError(error);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
    async close() {
      transport.close();
    },
  };
};

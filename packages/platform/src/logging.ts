import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that may hold personal data or secrets. They are replaced by "[redacted]" in every log line;
 * the tests check that a name, phone number or token never reaches the output (DESIGN §9).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.privateKey',
  '*.name',
  '*.recipient',
  '*.contact',
  '*.mobile',
  '*.phone',
  '*.email',
  '*.identity',
  '*.dob',
  '*.payload',
  '*.credential',
  '*.body',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to inspect the output. */
  destination?: DestinationStream;
}

/** A JSON (pino) logger for one service, with personal data redacted. */
export const createLogger = ({
  service,
  level = process.env.LOG_LEVEL ?? 'info',
  destination,
}: LoggerOptions): Logger =>
  pino(
    {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

/**
 * What the notification-service tests run against: the ports (embedded by default — PGlite, the in-process
 * bus, a file config store; with DIVOC_INFRA=real a fresh Postgres database, Kafka under a unique topic
 * prefix and etcd under a unique key prefix), a real SMTP server (smtp-server) that keeps what it receives,
 * an HTTP SMS sink that records every request and answers as a test scripts it, and the log output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type NotificationTemplates, topicSpecs } from '@divoc/contracts';
import {
  type BusMessage,
  type ConfigRegistry,
  type ConfigStore,
  createConfigRegistry,
  createDevIssuer,
  createEtcdConfigKeys,
  createEtcdConfigStore,
  createFileConfigStore,
  createKafkaBus,
  createLogger,
  createMemoryBus,
  createPgliteDatabase,
  createPostgresDatabase,
  type Database,
  type DevIssuer,
  type EventBus,
  type Logger,
  loadDefaultConfig,
} from '@divoc/platform';
import { deleteKafkaTopics, realInfraEnv, uniqueName, useRealInfra } from '@divoc/platform/testing';
import { migrate } from '@divoc/store';
import { simpleParser } from 'mailparser';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';

export const real = useRealInfra();
export const defaultsDirectory = fileURLToPath(new URL('../../../etcd-config', import.meta.url));

/** Every log line of the test (service, bus, config), as written. */
export const captureLogs = () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ service: 'notification-service', level: 'debug', destination });
  return { logger, lines, text: () => lines.join('') };
};

export interface Ports {
  db: Database;
  bus: EventBus;
  store: ConfigStore;
  registry: ConfigRegistry;
  templatesKey: ReturnType<typeof createEtcdConfigKeys>['NOTIFICATION_TEMPLATES'];
  templates: () => NotificationTemplates;
  defaults: NotificationTemplates;
  issuer: DevIssuer;
  close(): Promise<void>;
}

/** The ports for one test file; NOTIFICATION_TEMPLATES starts as the bundled default. */
export const openPorts = async (logger: Logger): Promise<Ports> => {
  const closers: (() => Promise<void>)[] = [];
  let db: Database;
  let bus: EventBus;
  let store: ConfigStore;
  if (real) {
    const infra = realInfraEnv();
    const run = uniqueName('notify').replace(/-/g, '_');
    const admin = new pg.Client({ connectionString: infra.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${run}`);
    await admin.end();
    closers.push(async () => {
      const dropper = new pg.Client({ connectionString: infra.DATABASE_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
      await dropper.end();
      await deleteKafkaTopics({ brokers: infra.KAFKA_BROKERS.split(','), prefix: `${run}.` });
    });
    const url = new URL(infra.DATABASE_URL);
    url.pathname = `/${run}`;
    db = createPostgresDatabase({ url: url.toString() });
    bus = createKafkaBus({
      brokers: infra.KAFKA_BROKERS.split(','),
      clientId: run,
      logger,
      topicPrefix: `${run}.`,
      consumer: { sessionTimeout: 6_000, rebalanceTimeout: 5_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 },
    });
    store = createEtcdConfigStore({ hosts: infra.ETCD_HOSTS.split(','), prefix: `${run}/`, logger });
  } else {
    db = await createPgliteDatabase();
    bus = createMemoryBus({ logger });
    const directory = await mkdtemp(join(tmpdir(), 'divoc-notify-config-'));
    closers.push(() => rm(directory, { recursive: true, force: true }));
    store = createFileConfigStore({ directory, logger, debounceMs: 10, pollIntervalMs: 100 });
  }
  closers.push(() => db.close());
  closers.push(() => bus.close());
  closers.push(() => store.close());
  await bus.ensureTopics(topicSpecs());
  await migrate(db);
  const keys = createEtcdConfigKeys(await loadDefaultConfig(defaultsDirectory));
  const templatesKey = keys.NOTIFICATION_TEMPLATES;
  const defaults = templatesKey.default as NotificationTemplates;
  await store.put(templatesKey.key, JSON.stringify(defaults, null, 2));
  const registry = await createConfigRegistry(store, [templatesKey], { logger });
  closers.push(() => registry.close());
  const issuer = await createDevIssuer();
  return {
    db,
    bus,
    store,
    registry,
    templatesKey,
    templates: () => registry.get(templatesKey),
    defaults,
    issuer,
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
};

/** Polls until `check` returns a value (not undefined) or the time is up. */
export const eventually = async <T>(
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = real ? 60_000 : 15_000, intervalMs = 25 } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

export interface ReceivedMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A real SMTP server on 127.0.0.1 (login required): keeps every message; `bounce…` and `later…` mailboxes refuse. */
export const startSmtpServer = async ({ user = 'mailer', password = 'mail-secret' } = {}) => {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('invalid credentials'));
    },
    onRcptTo(address, _session, callback) {
      const error = (code: number) =>
        Object.assign(new Error(`mailbox <${address.address}> unavailable`), { responseCode: code });
      if (address.address.startsWith('bounce')) return callback(error(550));
      if (address.address.startsWith('later')) return callback(error(451));
      return callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          mails.push({
            from: mail.from?.value[0]?.address ?? '',
            to: to?.value[0]?.address ?? '',
            subject: mail.subject ?? '',
            text: (mail.text ?? '').trim(),
            html: typeof mail.html === 'string' ? mail.html : '',
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    user,
    password,
    mails,
    to: (address: string) => mails.filter((mail) => mail.to === address),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

export interface SinkRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The number the request is for (JSON `to`, MSG91's `sms[0].to[0]`, or the form field `to`). */
  phone: string;
  /** The SMS text it carries. */
  text: string;
  status: number;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const phoneAndText = (body: string, contentType: string): { phone: string; text: string } => {
  if (contentType.includes('json')) {
    const json = JSON.parse(body) as { to?: string; text?: string; sms?: { message: string; to: string[] }[] };
    if (json.sms) return { phone: json.sms[0]?.to[0] ?? '', text: json.sms[0]?.message ?? '' };
    return { phone: json.to ?? '', text: json.text ?? '' };
  }
  const form = new URLSearchParams(body);
  return { phone: form.get('to') ?? '', text: form.get('text') ?? '' };
};

/**
 * An HTTP SMS gateway stand-in. Answers 200 unless a script says otherwise for the number (the last digits
 * of the request's number): `script(number, [503, 503])` fails twice then succeeds, `script(number, [503], true)`
 * fails forever. A 4xx answer quotes the number, as real gateways do, to check it is masked.
 */
export const startSmsSink = async () => {
  const requests: SinkRequest[] = [];
  const scripts = new Map<string, { statuses: number[]; forever: boolean }>();
  const server: Server = createServer((request, response) => {
    readBody(request).then((body) => {
      const { phone, text } = phoneAndText(body, String(request.headers['content-type'] ?? ''));
      const script = [...scripts].find(([number]) => phone.endsWith(number))?.[1];
      const status = script ? (script.forever ? (script.statuses[0] ?? 503) : (script.statuses.shift() ?? 200)) : 200;
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        phone,
        text,
        status,
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        status < 300
          ? JSON.stringify({ type: 'success', message: `req-${requests.length}` })
          : JSON.stringify({ type: 'error', message: `cannot deliver to ${phone}` }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/sms`,
    requests,
    /** Requests for a number (matched on its last digits). */
    to: (number: string) => requests.filter((request) => request.phone.endsWith(number)),
    delivered: (number: string) => requests.filter((request) => request.phone.endsWith(number) && request.status < 300),
    script: (number: string, statuses: number[], forever = false) => {
      scripts.set(number, { statuses: [...statuses], forever });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Collects the messages of the dead-letter topics. */
export const readDeadLetters = async (bus: EventBus, topics: string[]) => {
  const letters: BusMessage[] = [];
  const consumer = await bus.consume({
    groupId: uniqueName('dlq-reader'),
    topics,
    handle: async (messages) => {
      letters.push(...messages);
      return {};
    },
  });
  return { letters, stop: () => consumer.stop() };
};

/** A certified event as certificate-signer publishes it. */
export const certifiedEvent = (overrides: Record<string, unknown> = {}) => ({
  requestId: uniqueName('req'),
  certificateId: uniqueName('C').replace(/-/g, ''),
  preEnrollmentCode: uniqueName('P').replace(/-/g, ''),
  dose: 1,
  totalDoses: 2,
  kind: 'vaccination',
  contact: ['tel:9000012345'],
  name: 'Ravi Kumar',
  product: 'Covishield',
  issuedAt: '2021-05-10T09:30:00.000Z',
  ...overrides,
});

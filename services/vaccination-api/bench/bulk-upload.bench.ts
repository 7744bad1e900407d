/**
 * `pnpm bench bulk-upload`: the gateway's memory while it takes and processes a 100,000-row CSV upload
 * (the issue's budget: peak RSS under 300 MB), the time to the upload's answer and the rows queued per
 * second. The gateway runs in a child process — its RSS is sampled from /proc/<pid>/status every 20 ms
 * and its VmHWM (the kernel's high-water mark) read at the end:
 *
 * - embedded (default): the gateway on file-backed PGlite and the in-process bus, as `pnpm start` runs it
 *   (PGlite's memory is the gateway's here). A consumer in the child stands in for the signer and takes
 *   `certify` as it comes, so the in-process bus can drop what it delivered (Kafka keeps it on the broker).
 * - DIVOC_INFRA=real: `services/vaccination-api/dist/main.js` itself on Postgres and Kafka from
 *   scripts/infra (a fresh database and topic prefix).
 *
 * The CSV is generated as a stream into a temporary file and streamed into the request; 1% of the rows
 * are invalid. The upload counts as processed when every row is queued (`publishedAt`).
 *
 *   pnpm bench bulk-upload
 *   node --import tsx services/vaccination-api/bench/bulk-upload.bench.ts [--rows 100000] [--node-flags=--trace-gc]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { TOPICS, topicSpecs, VACCINATION_CSV_COLUMNS } from '@divoc/contracts';
import {
  createAdapters,
  createDevIssuer,
  createEtcdConfig,
  createKafkaBus,
  createLogger,
  createMetricsRegistry,
  createPostgresDatabase,
  parseEnv,
  silentLogger,
} from '@divoc/platform';
import { realInfraEnv, useRealInfra } from '@divoc/platform/testing';
import { migrate } from '@divoc/store';
import { fmt, machine, table } from '../../../scripts/bench-kit.js';
import { csvLine, sampleVaccinationCsvRow } from '../../../test-fixtures/index.js';
import { createVaccinationApi } from '../dist/app.js';
import { VaccinationApiEnv } from '../dist/settings.js';

const root = join(import.meta.dirname, '..', '..', '..');
const MiB = 1024 * 1024;
const BUDGET_MB = 300;

/** The gateway of the embedded measurement (this file, started again with --child). */
const runChild = async () => {
  const env = parseEnv(VaccinationApiEnv);
  const logger = createLogger({ service: 'vaccination-api', level: env.LOG_LEVEL });
  const metrics = createMetricsRegistry('vaccination-api');
  const withoutDatabase = process.memoryUsage().rss;
  const adapters = await createAdapters({ env, clientId: 'bench-gateway', logger, metrics });
  await migrate(adapters.db, logger);
  // What the embedded database (PGlite: Postgres in WebAssembly, in this process) occupies by itself.
  process.send?.({ databaseBytes: process.memoryUsage().rss - withoutDatabase });
  const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, { logger, metrics });
  // The signer's stand-in: takes every certify event at once.
  const drain = await adapters.bus.consume({
    groupId: 'bench-signer',
    topics: [TOPICS.certify],
    handle: async () => ({}),
    maxBatchSize: 1000,
  });
  const api = await createVaccinationApi({
    db: adapters.db,
    bus: adapters.bus,
    authenticator: adapters.authenticator,
    logger,
    metrics,
    vaccines: () => registry.get(keys.VACCINE_ICD),
    bulk: { maxBytes: env.BULK_UPLOAD_MAX_BYTES, retentionDays: env.BULK_ERROR_RETENTION_DAYS },
  });
  await api.http.listen({ port: env.PORT, host: '127.0.0.1' });
  process.once('SIGTERM', async () => {
    await api.stop();
    await drain.stop();
    await registry.close();
    await adapters.close();
    process.exit(0);
  });
};

/** Writes a CSV of `rows` vaccination rows to `path`, a line at a time (never the whole file in memory). */
const writeCsv = async (path: string, rows: number, prefix: string) => {
  async function* lines() {
    yield `\ufeff${VACCINATION_CSV_COLUMNS.join(',')}\r\n`;
    for (let index = 0; index < rows; index++) {
      // Every hundredth row has an invalid mobile number: the 1% of invalid rows.
      const row = sampleVaccinationCsvRow(`${prefix}-${index}`, index);
      if (index % 100 === 99) row.recipientMobileNumber = 'unknown';
      yield `${csvLine(VACCINATION_CSV_COLUMNS.map((column) => row[column] ?? ''))}\r\n`;
    }
  }
  await pipeline(Readable.from(lines()), createWriteStream(path));
};

/** VmRSS and VmHWM of a process, in bytes (Linux /proc). */
const memoryOf = (pid: number): { rss: number; hwm: number } => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
};

const call = (
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Readable,
): Promise<{ status: number; json: any }> =>
  new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          resolve({ status: response.statusCode ?? 0, json: text });
        }
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    if (body) body.pipe(outgoing);
    else outgoing.end();
  });

const waitReady = async (port: number, child: ChildProcess) => {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}`);
    try {
      if ((await call(port, 'GET', '/health/ready', {})).status === 200) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the gateway did not become ready');
};

const runParent = async () => {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      /** Extra flags for the gateway's node process (e.g. --trace-gc, --cpu-prof), space-separated. */
      'node-flags': { type: 'string', default: '' },
    },
  });
  const nodeFlags = (values['node-flags'] as string).split(' ').filter(Boolean);
  // The gateway runs with the V8 heap limit it is deployed with (deploy/k8s/base): the limit also
  // decides how much garbage V8 lets pile up between full collections.
  const manifest = readFileSync(join(root, 'deploy', 'k8s', 'base', 'services', 'vaccination-api.yaml'), 'utf8');
  const deployedFlags = /--max-old-space-size=\d+/.exec(manifest)?.slice(0, 1) ?? [];
  const rows = Number(values.rows);
  const real = useRealInfra();
  const run = `bench_bulk_${Date.now().toString(36)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'divoc-bench-bulk-'));
  const csvPath = join(dataDir, 'certificates.csv');
  const port = 18_400;
  console.log(
    `machine: ${machine()}${process.env.BENCH_CPU ? `; pinned to CPU ${process.env.BENCH_CPU}` : ''}; gateway: ${
      real
        ? 'dist/main.js on Postgres + Kafka (scripts/infra)'
        : 'embedded adapters (file-backed PGlite, in-process bus)'
    } with ${[...deployedFlags, ...nodeFlags].join(' ') || 'default node flags'}`,
  );

  let started = performance.now();
  await writeCsv(csvPath, rows, run.toUpperCase());
  const bytes = statSync(csvPath).size;
  console.log(`generated ${fmt(rows)} rows, ${fmt(bytes / MiB, 1)} MB, in ${fmt(performance.now() - started)} ms`);

  let cleanup = async () => {};
  let env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    DIVOC_DATA_DIR: dataDir,
    DIVOC_CONFIG_DEFAULTS: join(root, 'etcd-config'),
    LOG_LEVEL: 'warn',
    // The default limit (50 MiB) unless the generated file is bigger.
    BULK_UPLOAD_MAX_BYTES: String(Math.max(50 * MiB, bytes + MiB)),
  };
  let command: string[];
  if (real) {
    const infra = realInfraEnv();
    const admin = createPostgresDatabase({ url: infra.DATABASE_URL, maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${run}`);
    await admin.close();
    const url = new URL(infra.DATABASE_URL);
    url.pathname = `/${run}`;
    env = { ...env, DATABASE_URL: url.toString(), KAFKA_BROKERS: infra.KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: `${run}.` };
    const bus = createKafkaBus({
      brokers: infra.KAFKA_BROKERS.split(','),
      clientId: run,
      logger: silentLogger(),
      topicPrefix: `${run}.`,
    });
    await bus.ensureTopics(topicSpecs());
    await bus.close();
    command = [join(root, 'services', 'vaccination-api', 'dist', 'main.js')];
    cleanup = async () => {
      const dropper = createPostgresDatabase({ url: infra.DATABASE_URL, maxConnections: 1 });
      await dropper.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
      await dropper.close();
    };
  } else {
    command = ['--import', 'tsx', import.meta.filename, '--child'];
  }

  const child = spawn(process.execPath, [...deployedFlags, ...nodeFlags, ...command], {
    env,
    stdio: ['ignore', nodeFlags.length > 0 ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    cwd: root,
  });
  const pid = child.pid as number;
  let databaseBytes = 0;
  child.on('message', (message: { databaseBytes?: number }) => {
    databaseBytes = message.databaseBytes ?? databaseBytes;
  });
  try {
    await waitReady(port, child);
    const issuer = await createDevIssuer({ directory: join(dataDir, 'auth') });
    const token = await issuer.issue({ roles: ['facility-admin'], username: 'bench-admin' });
    const idle = memoryOf(pid);
    let peakSampled = idle.rss;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, memoryOf(pid).rss);
    }, 20);

    const boundary = `----divoc-bench-${run}`;
    async function* multipart() {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="certificates.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      );
      yield* createReadStream(csvPath, { highWaterMark: 256 * 1024 });
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    started = performance.now();
    const answer = await call(
      port,
      'POST',
      '/divoc/api/v1/bulkCertify',
      { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${token}` },
      Readable.from(multipart()),
    );
    const answeredMs = performance.now() - started;
    if (answer.status !== 200) throw new Error(`upload refused: ${answer.status} ${JSON.stringify(answer.json)}`);
    const rssAtAnswer = memoryOf(pid).rss;

    let summary: any;
    for (;;) {
      const list = await call(port, 'GET', '/divoc/api/v1/certify/uploads', { authorization: `Bearer ${token}` });
      summary = (list.json as any[]).find((entry) => entry.uploadId === answer.json.uploadId);
      if (summary?.status === 'failed') throw new Error(`upload failed: ${summary.error}`);
      if (summary?.publishedAt) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const queuedMs = Date.parse(summary.publishedAt) - Date.parse(summary.receivedAt);
    const totalMs = performance.now() - started;
    clearInterval(sampler);
    const end = memoryOf(pid);
    const peak = Math.max(end.hwm, peakSampled);

    // Embedded, the gateway's process also holds the database; its share is taken off (as measured at
    // start: PGlite's memory only grows, so what is left is an upper bound of the gateway's own).
    const gateway = real ? peak : peak - databaseBytes;
    console.log(
      table([
        ['measure', 'value'],
        [
          'file',
          `${fmt(rows)} rows, ${fmt(bytes / MiB, 1)} MB (${summary.counts.valid} valid, ${summary.counts.invalid} invalid)`,
        ],
        ['time to the upload answer (file received and stored)', `${fmt(answeredMs)} ms`],
        ['time from the answer until every row is queued', `${fmt(queuedMs)} ms`],
        ['rows queued per second (after the answer)', fmt((rows / queuedMs) * 1000)],
        ['rows per second, upload start to all queued', fmt((rows / totalMs) * 1000)],
        ['gateway RSS idle before the upload', `${fmt(idle.rss / MiB)} MB`],
        ['gateway RSS at the answer', `${fmt(rssAtAnswer / MiB)} MB`],
        ['gateway peak RSS (VmHWM, whole run)', `${fmt(peak / MiB)} MB`],
        ...(real
          ? []
          : [
              ['of which the embedded database (PGlite, at start)', `${fmt(databaseBytes / MiB)} MB`],
              ['gateway peak RSS without the embedded database', `${fmt(gateway / MiB)} MB (upper bound)`],
            ]),
      ]),
    );
    const verdict = gateway / MiB < BUDGET_MB;
    console.log(
      `gateway peak memory ${fmt(gateway / MiB)} MB ${verdict ? '<' : '>='} the budget of ${BUDGET_MB} MB${
        real ? '' : ' (embedded: run with DIVOC_INFRA=real for the gateway on Postgres and Kafka)'
      }`,
    );
    if (!verdict) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

if (process.argv.includes('--child')) await runChild();
else await runParent();

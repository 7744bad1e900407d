/**
 * `pnpm bench:e2e`: certify requests through the gateway on real infrastructure (Kafka, Postgres,
 * Redis, etcd from scripts/infra), each service in its own Node process as in production. Reports
 * certificates per second end to end, p50/p99 latency from acceptance (gateway) to issued (ledger),
 * and CPU per certificate of each process.
 *
 * Each scenario first sends `--warmup` items that are not counted and waits until they are issued:
 * the services are long-running processes, and a fresh Node process spends its first few thousand
 * requests compiling (the gateway's CPU per request halves once V8 has optimised the hot paths).
 * Then `--rounds` rounds of `--requests` items each are measured on the warm processes, one after
 * the other; every round's throughput is printed, and the median round's latency and CPU. (Two
 * cores shared by six processes make single runs vary by ±10 %.)
 *
 *   pnpm bench:e2e [--requests 5000] [--rounds 3] [--warmup 5000] [--concurrency 64] [--batch 1,10]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topicSpecs } from '@divoc/contracts';
import { generateSigningKey, privateKeyPem } from '@divoc/credentials';
import { createDevIssuer, createKafkaBus, silentLogger } from '@divoc/platform';
import { deleteKafkaTopics, realInfraEnv } from '@divoc/platform/testing';
import pg from 'pg';
import { request } from 'undici';
import { fmt, machine, table } from '../../scripts/bench-kit.js';
import { openLoadConnection } from '../../scripts/http-load.js';
import { readJsonFixture } from '../../test-fixtures/index.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    batch: { type: 'string', default: '1,10' },
    'key-type': { type: 'string', default: 'ED25519' },
    /** Writes V8 CPU profiles of the services to this directory (for finding where the time goes). */
    profile: { type: 'string' },
    /**
     * Partitions per topic. A two-core machine runs one signer, which is fastest with few partitions
     * (bigger batches); a cluster uses the counts in @divoc/contracts (12 for certify) to spread load.
     */
    partitions: { type: 'string', default: '4' },
  },
});
const TOTAL = Number(values.requests);
const WARMUP = Number(values.warmup);
const ROUNDS = Math.max(1, Number(values.rounds));
const CONCURRENCY = Number(values.concurrency);
const BATCHES = (values.batch as string).split(',').map(Number);
const root = join(import.meta.dirname, '..', '..');
const infra = realInfraEnv();
const template = readJsonFixture<Record<string, unknown>[]>('divoc', 'certify-v3-ddcc.json')[0] as Record<
  string,
  unknown
>;

const ticksPerSecond = 100;
interface CpuTime {
  user: number;
  system: number;
}
const noCpu: CpuTime = { user: 0, system: 0 };
const addCpu = (a: CpuTime, b: CpuTime): CpuTime => ({ user: a.user + b.user, system: a.system + b.system });
/** utime and stime of a process, in seconds (Linux /proc). */
const cpuSeconds = (pid: number): CpuTime => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
  } catch {
    return noCpu;
  }
};
const pidsOf = (pattern: RegExp): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        return false;
      }
    })
    .map(Number);

const waitReady = async (port: number) => {
  for (let i = 0; i < 300; i++) {
    try {
      const response = await request(`http://127.0.0.1:${port}/health/ready`);
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service on port ${port} did not become ready`);
};

const runScenario = async (batchSize: number) => {
  const run = `bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: infra.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${run}`);
  await admin.end();
  const dbUrl = new URL(infra.DATABASE_URL);
  dbUrl.pathname = `/${run}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'divoc-bench-'));
  const key = generateSigningKey(values['key-type'] === 'RSA' ? 'RSA' : 'ED25519');
  const env = {
    ...process.env,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: infra.REDIS_URL,
    ETCD_HOSTS: infra.ETCD_HOSTS,
    ETCD_PREFIX: `${run}/`,
    DIVOC_DATA_DIR: dataDir,
    DIVOC_CONFIG_DEFAULTS: join(root, 'etcd-config'),
    SIGNING_KEY_TYPE: key.type,
    CERTIFICATE_PRIVATE_KEY: privateKeyPem(key),
    LOG_LEVEL: 'warn',
  };
  const bus = createKafkaBus({
    brokers: infra.KAFKA_BROKERS.split(','),
    clientId: run,
    logger: silentLogger(),
    topicPrefix: `${run}.`,
  });
  const partitions = values.partitions === undefined ? undefined : Number(values.partitions);
  await bus.ensureTopics(
    topicSpecs().map((spec) => (partitions && !spec.topic.endsWith('.dlq') ? { ...spec, partitions } : spec)),
  );
  await bus.close();

  const services: { name: string; port: number; child?: ChildProcess }[] = [
    { name: 'vaccination-api', port: 18000 },
    { name: 'certificate-signer', port: 18001 },
    { name: 'certificate-processor', port: 18002 },
  ];
  for (const service of services) {
    const profiling = values.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, `--cpu-prof-name=${service.name}.cpuprofile`]
      : [];
    service.child = spawn(process.execPath, [...profiling, join(root, 'services', service.name, 'dist', 'main.js')], {
      env: { ...env, PORT: String(service.port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Migrations run at start; let the first finish before the others race it.
    await waitReady(service.port);
  }
  const issuer = await createDevIssuer({ directory: join(dataDir, 'auth') });
  const token = await issuer.issue({ roles: ['facility-staff'], ttlSeconds: 3600 });
  // One keep-alive connection per client, as a source system keeps its connection to the gateway.
  const connections = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => openLoadConnection('127.0.0.1', 18000)),
  );
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const kafkaPids = pidsOf(/kafka\.Kafka/);
  const measureCpu = () => {
    const now = new Map<string, CpuTime>();
    for (const service of services) now.set(service.name, cpuSeconds(service.child?.pid ?? 0));
    now.set('kafka', kafkaPids.map(cpuSeconds).reduce(addCpu, noCpu));
    // Postgres forks a backend per connection: the services' backends exist only while they run.
    now.set(
      'postgres',
      pidsOf(/^postgres/)
        .map(cpuSeconds)
        .reduce(addCpu, noCpu),
    );
    const own = process.cpuUsage();
    now.set('load generator', { user: own.user / 1e6, system: own.system / 1e6 });
    return now;
  };
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();

  /** Sends `items` certify items (`batchSize` per HTTP call) with codes starting with `prefix`. */
  const send = async (prefix: string, items: number): Promise<number> => {
    const calls = Math.ceil(items / batchSize);
    let next = 0;
    const worker = async (connection: (typeof connections)[number]) => {
      while (next < calls) {
        const index = next++;
        const body = Array.from({ length: batchSize }, (_, offset) => ({
          ...template,
          preEnrollmentCode: `${prefix}${index}-${offset}-${run}`,
        }));
        const response = await connection.send('POST', '/divoc/api/v3/certify', headers, JSON.stringify(body));
        if (response.status !== 200) throw new Error(`certify answered ${response.status}: ${response.body}`);
      }
    };
    await Promise.all(connections.map(worker));
    return calls * batchSize;
  };
  /** Waits until every request sent so far has left the `accepted` state. */
  const settle = async (total: number) => {
    const since = performance.now();
    for (;;) {
      const { rows } = await db.query<{ done: number }>(
        `SELECT count(*)::int AS done FROM requests WHERE status <> 'accepted'`,
      );
      if ((rows[0]?.done ?? 0) >= total) return;
      if ((performance.now() - since) / 1000 > 600)
        throw new Error(`only ${rows[0]?.done} of ${total} settled after 10 minutes`);
      // Not more often: the count scans the ledger, and its CPU would be charged to Postgres.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  /** One measured round: `TOTAL` new items, their throughput, latency and the CPU they cost. */
  const measureRound = async (round: number, alreadySent: number) => {
    const prefix = `R${round}-`;
    const cpuBefore = measureCpu();
    const started = performance.now();
    const total = await send(prefix, TOTAL);
    const acceptedAfter = (performance.now() - started) / 1000;
    await settle(alreadySent + total);
    const cpuAfter = measureCpu();
    const { rows } = await db.query<Record<string, number>>(
      `SELECT count(*) FILTER (WHERE status = 'issued')::int AS issued,
              extract(epoch FROM max(updated_at) - min(received_at))::float AS seconds,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - received_at) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - received_at) * 1000) AS p99
       FROM requests WHERE pre_enrollment_code LIKE $1`,
      [`${prefix}%`],
    );
    const stats = rows[0] as Record<string, number>;
    const certificates = await db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM certificates WHERE pre_enrollment_code LIKE $1',
      [`${prefix}%`],
    );
    const issued = stats.issued as number;
    return {
      total,
      issued,
      certificates: certificates.rows[0]?.count ?? 0,
      perSecond: issued / (stats.seconds as number),
      acceptedPerSecond: total / acceptedAfter,
      p50: stats.p50 as number,
      p99: stats.p99 as number,
      cpu: [...cpuAfter].map(([name, after]) => {
        const before = cpuBefore.get(name) ?? noCpu;
        const perCertificate = (seconds: number) => (seconds / issued) * 1e6;
        return [name, perCertificate(after.user - before.user), perCertificate(after.system - before.system)] as const;
      }),
    };
  };

  let sent = WARMUP > 0 ? await send('W', WARMUP) : 0;
  await settle(sent);
  const rounds: Awaited<ReturnType<typeof measureRound>>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const result = await measureRound(round, sent);
    sent += result.total;
    rounds.push(result);
  }
  await db.end();

  for (const service of services) service.child?.kill('SIGTERM');
  await Promise.all(services.map((service) => new Promise((resolve) => service.child?.once('exit', resolve))));
  for (const connection of connections) connection.close();
  const dropper = new pg.Client({ connectionString: infra.DATABASE_URL });
  await dropper.connect();
  await dropper.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
  await dropper.end();
  await deleteKafkaTopics({ brokers: infra.KAFKA_BROKERS.split(','), prefix: `${run}.` });
  return rounds;
};

console.log(`machine: ${machine()}`);
console.log(
  `${TOTAL} v3 certify items per round, ${ROUNDS} rounds after ${WARMUP} warm-up items, ${CONCURRENCY} concurrent HTTP clients, ` +
    `${values['key-type']} signing, real Kafka/Postgres/Redis/etcd`,
);
for (const batchSize of BATCHES) {
  const rounds = await runScenario(batchSize);
  const ranked = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  const median = ranked[Math.floor((ranked.length - 1) / 2)] as (typeof rounds)[number];
  console.log(
    `\nitems per HTTP request: ${batchSize} → ${fmt(median.perSecond)} certificates/s end to end (median of rounds: ` +
      `${rounds.map((round) => fmt(round.perSecond)).join(', ')}); accepted ${fmt(median.acceptedPerSecond)}/s; ` +
      `accept→issued p50 ${fmt(median.p50)} ms, p99 ${fmt(median.p99)} ms; ${median.issued} issued, ${median.certificates} certificates stored`,
  );
  const rows = median.cpu.map(([name, user, system]) => [name, fmt(user + system), fmt(user), fmt(system)]);
  const sum = median.cpu.reduce((total, [, user, system]) => total + user + system, 0);
  console.log(table([['process', 'CPU µs per certificate', 'user', 'kernel'], ...rows, ['total', fmt(sum), '', '']]));
}

/**
 * `pnpm bench downloads`: the citizen's PDF download (`GET /certificate/api/certificatePDF/:code` with a
 * recipient token) under load, uncached and cached — throughput and latency percentiles.
 *
 * `services/certificate-api/dist/main.js` runs as it does in production, in its own process pinned to one
 * core; the load generator (undici, keep-alive connections) runs here, pinned to the other core. The
 * certificates are seeded first (signed Ed25519 credentials, one beneficiary each, all on the token's mobile
 * number):
 *
 * - uncached: every request asks for a beneficiary not downloaded before, so each one looks up the
 *   certificates, renders the PDF (with its QR code) and stores it in the cache;
 * - cached: requests cycle over beneficiaries already downloaded (the cache answers; the certificate is
 *   still looked up, because authorization and "latest certificate" are decided on every request).
 *
 * Embedded by default (PGlite in the service's process, in-memory cache); DIVOC_INFRA=real uses Postgres
 * (a fresh database) and Redis from scripts/infra.
 *
 *   pnpm bench downloads
 *   node --import tsx services/certificate-api/bench/downloads.bench.ts [--uncached 3000] [--seconds 10] [--concurrency 32]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CertificationRequestV2, IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import {
  buildVaccinationCredential,
  credentialConfigFrom,
  generateSigningKey,
  IssuerEnv,
  publicKeyPem,
  signCredential,
} from '@divoc/credentials';
import { createAdapters, createDevIssuer, createMetricsRegistry, parseEnv, silentLogger } from '@divoc/platform';
import { realInfraEnv, useRealInfra } from '@divoc/platform/testing';
import { insertCertificates, migrate, type NewCertificate } from '@divoc/store';
import pg from 'pg';
import { Agent, request } from 'undici';
import { fmt, machine, table } from '../../../scripts/bench-kit.js';
import { readJsonFixture } from '../../../test-fixtures/index.js';
import { CertificateApiEnv } from '../dist/settings.js';

const { values } = parseArgs({
  options: {
    uncached: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    /** Writes a V8 CPU profile of the service to this directory (for finding where the time goes). */
    profile: { type: 'string' },
  },
});
const UNCACHED = Number(values.uncached);
const CACHED_SET = 200;
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const PORT = 18_432;
const MOBILE = '9000000001';
const ISSUER = 'did:web:divoc.example';
const root = join(import.meta.dirname, '..', '..', '..');
const real = useRealInfra();

// The load generator on CPU 0 (all of this process's threads), the service on CPU 1.
const taskset = spawnSync('taskset', ['--version']).status === 0;
if (taskset) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

const etcdDefault = <T>(key: string): T =>
  JSON.parse(readFileSync(join(root, 'etcd-config', `${key}.json`), 'utf8')) as T;

/** A fresh Postgres database (real mode) or PGlite directory (embedded), plus the service's environment. */
const prepareEnvironment = async (): Promise<Record<string, string>> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'divoc-bench-downloads-'));
  const key = generateSigningKey('ED25519');
  const env: Record<string, string> = {
    DIVOC_DATA_DIR: dataDir,
    DIVOC_CONFIG_DEFAULTS: join(root, 'etcd-config'),
    CERTIFICATE_ISSUER: ISSUER,
    CERTIFICATE_PUBLIC_KEY: publicKeyPem(key),
    LOG_LEVEL: 'warn',
    PORT: String(PORT),
  };
  if (real) {
    const infra = realInfraEnv();
    const name = `bench_downloads_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: infra.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(infra.DATABASE_URL);
    url.pathname = `/${name}`;
    Object.assign(env, { DATABASE_URL: url.toString(), REDIS_URL: infra.REDIS_URL, REDIS_PREFIX: `${name}:` });
  }
  await seed(env, key);
  return env;
};

/** Signs one dose-1 certificate per beneficiary and stores them (what the signer would have done). */
const seed = async (raw: Record<string, string>, key: ReturnType<typeof generateSigningKey>) => {
  const env = parseEnv(CertificateApiEnv, raw);
  const logger = silentLogger();
  const adapters = await createAdapters({
    env,
    clientId: 'bench-seed',
    logger,
    metrics: createMetricsRegistry('seed'),
  });
  await migrate(adapters.db, logger);
  const template = readJsonFixture<CertificationRequestV2[]>(
    'divoc',
    'certify-v3-ddcc.json',
  )[0] as CertificationRequestV2;
  // The signer's own configuration (defaults of the issuer settings), with the shipped ICD mappings.
  const config = credentialConfigFrom(parseEnv(IssuerEnv, raw), {
    icd: etcdDefault<IcdConfig>('ICD'),
    vaccineIcd: etcdDefault<VaccineIcdConfig>('VACCINE_ICD'),
  });

  const total = UNCACHED + CACHED_SET;
  for (let start = 0; start < total; start += 500) {
    const rows: NewCertificate[] = [];
    for (let index = start; index < Math.min(total, start + 500); index++) {
      const code = codeOf(index);
      const request: CertificationRequestV2 = {
        ...template,
        preEnrollmentCode: code,
        recipient: { ...template.recipient, name: `Bench Beneficiary ${index}`, contact: [`tel:${MOBILE}`] },
      };
      const certificateId = `06BENCH${String(index).padStart(14, '0')}`;
      const issuedAt = new Date(request.vaccination.date);
      const credential = await signCredential(
        buildVaccinationCredential(request, 'v3', { certificateId, issuanceDate: issuedAt }, config),
        { key, created: issuedAt },
      );
      rows.push({
        certificateId,
        requestId: `bench-${index}`,
        kind: 'vaccination',
        preEnrollmentCode: code,
        dose: request.vaccination.dose,
        totalDoses: request.vaccination.totalDoses,
        slot: String(request.vaccination.dose),
        credential,
        name: request.recipient.name,
        mobile: MOBILE,
        issuedAt,
      });
    }
    await adapters.db.transaction((tx) => insertCertificates(tx, rows));
  }
  await adapters.close();
};

const codeOf = (index: number) => `BENCH-DL-${String(index).padStart(6, '0')}`;

const startService = async (env: Record<string, string>): Promise<ChildProcess> => {
  const main = join(root, 'services', 'certificate-api', 'dist', 'main.js');
  const profiling = values.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, '--cpu-prof-name=certificate-api.cpuprofile']
    : [];
  const node = [process.execPath, ...profiling, main];
  const command = taskset ? ['taskset', '-c', '1', ...node] : node;
  const child = spawn(command[0] as string, command.slice(1), {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      const response = await request(`http://127.0.0.1:${PORT}/health/ready`);
      await response.body.dump();
      if (response.statusCode === 200) return child;
    } catch {}
    if (child.exitCode !== null) throw new Error(`certificate-api exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('certificate-api did not become ready');
};

interface Run {
  requests: number;
  seconds: number;
  latencies: number[];
  bytes: number;
}

/** `CONCURRENCY` clients asking for `next()` until it returns undefined; every answer must be a PDF. */
const load = async (agent: Agent, token: string, next: () => string | undefined): Promise<Run> => {
  const latencies: number[] = [];
  let bytes = 0;
  const started = performance.now();
  const client = async () => {
    for (let code = next(); code !== undefined; code = next()) {
      const sent = performance.now();
      const response = await request(`http://127.0.0.1:${PORT}/certificate/api/certificatePDF/${code}`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}` },
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      latencies.push(performance.now() - sent);
      if (response.statusCode !== 200 || body.subarray(0, 5).toString() !== '%PDF-')
        throw new Error(`GET ${code} answered ${response.statusCode}: ${body.subarray(0, 200).toString()}`);
      bytes += body.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return { requests: latencies.length, seconds: (performance.now() - started) / 1000, latencies, bytes };
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const report = (name: string, run: Run): (string | number)[] => {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  return [
    name,
    fmt(run.requests),
    fmt(run.requests / run.seconds),
    fmt(percentile(sorted, 50), 1),
    fmt(percentile(sorted, 99), 1),
    fmt(sorted.at(-1) ?? Number.NaN, 1),
    fmt(run.bytes / run.requests / 1024, 1),
  ];
};

console.log(
  `machine: ${machine()}; certificate-api ${taskset ? 'pinned to CPU 1' : 'unpinned'}, load generator ${taskset ? 'on CPU 0' : 'unpinned'}; ` +
    `${real ? 'Postgres + Redis (DIVOC_INFRA=real)' : 'embedded: PGlite + in-memory cache'}; ${CONCURRENCY} connections`,
);
const env = await prepareEnvironment();
const service = await startService(env);
try {
  // The service's dev issuer keeps its key in DIVOC_DATA_DIR/auth: tokens made here are accepted there.
  const issuer = await createDevIssuer({ directory: join(env.DIVOC_DATA_DIR as string, 'auth') });
  const token = await issuer.issue({ roles: ['recipient'], mobile: MOBILE, ttlSeconds: 3600 });
  const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 });
  const rows: (string | number)[][] = [['download', 'requests', 'per second', 'p50 ms', 'p99 ms', 'max ms', 'KiB']];

  // Warm-up (JIT, connections, font subsets): the cached set, downloaded once — which also caches it.
  let warm = UNCACHED;
  await load(agent, token, () => (warm < UNCACHED + CACHED_SET ? codeOf(warm++) : undefined));

  let fresh = 0;
  rows.push(
    report(
      'uncached (render + cache write)',
      await load(agent, token, () => (fresh < UNCACHED ? codeOf(fresh++) : undefined)),
    ),
  );

  let round = 0;
  const deadline = performance.now() + SECONDS * 1000;
  rows.push(
    report(
      'cached',
      await load(agent, token, () =>
        performance.now() < deadline ? codeOf(UNCACHED + (round++ % CACHED_SET)) : undefined,
      ),
    ),
  );
  console.log(table(rows));
  await agent.close();
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  rmSync(env.DIVOC_DATA_DIR as string, { recursive: true, force: true });
}

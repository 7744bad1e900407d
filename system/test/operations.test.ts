import type { CertificationRequestV2, VaccineIcdConfig } from '@divoc/contracts';
import type { EventBus } from '@divoc/platform';
import { useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBroker } from './faults.js';
import { eventually, loadFixture, startTestSystem, type TestSystem } from './harness.js';

/**
 * What an operator relies on: configuration changed in etcd without a restart (and a bad change
 * refused), readiness that follows the dependencies, and the metrics to watch.
 */
let t: TestSystem;
let api: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let signer: Awaited<ReturnType<TestSystem['system']['make']['signer']>>;
let processor: Awaited<ReturnType<TestSystem['system']['make']['processor']>>;
let staff: string;
let ddcc: CertificationRequestV2[];
let busDown = false;
type Json = Record<string, any>;
const run = Date.now().toString(36);

/** Certifies one new beneficiary and returns its issued credential. */
const issue = async (code: string, timeoutMs = 30_000): Promise<Json> => {
  const response = await api.http.inject({
    method: 'POST',
    url: '/divoc/api/v3/certify',
    payload: [{ ...structuredClone(ddcc[0]), preEnrollmentCode: code }],
    headers: { authorization: `Bearer ${staff}` },
  });
  expect(response.statusCode).toBe(200);
  const requestId = (response.json() as Json).requests[0].requestId;
  return eventually(
    async () => {
      const { rows } = await t.adapters.db.query<{ credential: Json }>(
        'SELECT credential FROM certificates WHERE request_id = $1',
        [requestId],
      );
      return rows[0]?.credential;
    },
    { timeoutMs },
  );
};

const metricValue = async (text: string, name: string): Promise<number> => {
  const line = text.split('\n').find((row) => row.startsWith(name));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
};

beforeAll(async () => {
  t = await startTestSystem({ captureLogs: true });
  ddcc = await loadFixture('certify-v3-ddcc.json');
  // In embedded mode an outage of the in-process bus is simulated at its health check.
  const bus: EventBus = {
    ...t.adapters.bus,
    health: () => (busDown ? Promise.reject(new Error('broker unreachable')) : t.adapters.bus.health()),
  };
  api = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  signer = await t.system.make.signer(useRealInfra() ? {} : { bus });
  processor = await t.system.make.processor();
  await signer.start();
  await processor.start();
  staff = await t.token(['facility-staff']);
});

afterAll(async () => {
  await processor?.stop();
  await signer?.stop();
  await api?.stop();
  await t?.close();
});

describe('configuration in etcd', () => {
  it('changes the next certificate when VACCINE_ICD changes, without a restart', async () => {
    const before = await issue(`CFG-${run}-1`);
    expect(before.evidence[0].icd11Code).toBe('XM9QW8');
    const vaccines = structuredClone(t.system.registry.get(t.system.keys.VACCINE_ICD)) as VaccineIcdConfig;
    const covishield = vaccines.find((entry) => entry.vaccineName === 'covishield');
    if (covishield) covishield.icd11Code = 'XM1NL1';
    await t.adapters.config.put('VACCINE_ICD', JSON.stringify(vaccines));
    await eventually(async () =>
      t.system.registry.get(t.system.keys.VACCINE_ICD).find((entry) => entry.vaccineName === 'covishield')
        ?.icd11Code === 'XM1NL1'
        ? true
        : undefined,
    );
    const after = await issue(`CFG-${run}-2`);
    expect(after.evidence[0]).toMatchObject({
      icd11Code: 'XM1NL1',
      prophylaxis: 'COVID-19 vaccine, inactivated virus',
    });
  });

  it('rejects an invalid value: the last good value stays, the error is logged, the metric is raised', async () => {
    const good = t.system.registry.get(t.system.keys.VACCINE_ICD);
    const version = t.system.registry.version(t.system.keys.VACCINE_ICD);
    await t.adapters.config.put('VACCINE_ICD', JSON.stringify([{ vaccineName: 'covishield', icd11Code: 'XM0000' }]));
    await eventually(async () =>
      t.logs.some((line) => /VACCINE_ICD/.test(line) && /"level":"error"/.test(line)) ? true : undefined,
    );
    expect(t.system.registry.get(t.system.keys.VACCINE_ICD)).toEqual(good);
    expect(t.system.registry.version(t.system.keys.VACCINE_ICD)).toBe(version);
    const metrics = await t.system.configMetrics.metrics();
    expect(await metricValue(metrics, 'divoc_config_rejected_total{key="VACCINE_ICD"')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, 'divoc_config_value_valid{key="VACCINE_ICD"')).toBe(0);
    // Issuance goes on with the last good value.
    expect((await issue(`CFG-${run}-3`)).evidence[0].icd11Code).toBe('XM1NL1');
    await t.adapters.config.put('VACCINE_ICD', JSON.stringify(good));
  });
});

describe('health and metrics', () => {
  it('/health/ready is unready while the broker is unreachable and ready again after', async () => {
    expect((await signer.http.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    if (useRealInfra()) kafkaBroker.stop();
    else busDown = true;
    try {
      await eventually(async () => {
        const response = await signer.http.inject({ method: 'GET', url: '/health/ready' });
        return response.statusCode === 503 && (response.json() as Json).checks.bus.startsWith('unavailable')
          ? true
          : undefined;
      });
    } finally {
      if (useRealInfra()) kafkaBroker.start();
      else busDown = false;
    }
    await eventually(
      async () =>
        (await signer.http.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200 ? true : undefined,
      {
        timeoutMs: 60_000,
      },
    );
    // And certificates flow again after the outage. A restarted broker may drop consumer-group members
    // (session timeout 30 s) before they rejoin, so recovery is allowed up to three session timeouts.
    expect((await issue(`AFTER-OUTAGE-${run}`, 90_000)).evidence[0].certificateId).toBeTruthy();
  }, 200_000);

  it('/metrics exposes request counts and latency, certificates issued and consumer lag', async () => {
    await issue(`METRICS-${run}`);
    const gateway = (await api.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(gateway).toMatch(/divoc_http_requests_total\{method="POST",route="\/divoc\/api\/v3\/certify",status="200"/);
    expect(gateway).toMatch(/divoc_http_request_duration_seconds_bucket\{/);
    const signing = (await signer.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(await metricValue(signing, 'divoc_certificates_issued_total{kind="vaccination"')).toBeGreaterThanOrEqual(1);
    const bus = await t.adapterMetrics.metrics();
    expect(bus).toMatch(/divoc_bus_consumer_lag\{/);
  });
});

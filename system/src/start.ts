import { TravelExportEnv } from '@divoc/certificate-api/settings';
import { loadSigningKey, SignerEnv } from '@divoc/certificate-signer/settings';
import { preloadFonts } from '@divoc/documents';
import { createAdapters, createLogger, createMetricsRegistry, envPort, type HttpApp, parseEnv } from '@divoc/platform';
import { z } from 'zod';
import { composeSystem } from './compose.js';

/**
 * `pnpm start`: every built service in one process on its usual port, with the embedded adapters
 * (DESIGN §4) and data under ./.divoc-data. Setting KAFKA_BROKERS, DATABASE_URL, REDIS_URL,
 * ETCD_HOSTS or KEYCLOAK_URL switches that port to the real thing. For evaluation and development:
 * production runs each service in its own pod.
 */
const env = parseEnv(
  SignerEnv.omit({ PORT: true })
    .extend(TravelExportEnv.shape)
    .extend({
      VACCINATION_API_PORT: envPort(8000),
      CERTIFICATE_SIGNER_PORT: envPort(8001),
      CERTIFICATE_PROCESSOR_PORT: envPort(8002),
      CERTIFICATE_API_PORT: envPort(4321),
      REVOCATION_SERVICE_PORT: envPort(8003),
      NOTIFICATION_SERVICE_PORT: envPort(8765),
      HOST: z.string().min(1).default('127.0.0.1'),
    }),
);
const logger = (service: string) => createLogger({ service, level: env.LOG_LEVEL });
const adapters = await createAdapters({
  env,
  clientId: 'divoc-embedded',
  logger: logger('adapters'),
  metrics: createMetricsRegistry('adapters'),
});
const key = loadSigningKey(env);
const system = await composeSystem({ adapters, env, key, logger });

preloadFonts();
const api = await system.make.vaccinationApi();
const signer = await system.make.signer();
const processor = await system.make.processor();
const certificates = await system.make.certificateApi({ port: env.CERTIFICATE_API_PORT });
const revocation = await system.make.revocationService();
const notifications = await system.make.notificationService();
const listen = (http: HttpApp, port: number) => http.listen({ port, host: env.HOST });
await listen(api.http, env.VACCINATION_API_PORT);
await listen(signer.http, env.CERTIFICATE_SIGNER_PORT);
await listen(processor.http, env.CERTIFICATE_PROCESSOR_PORT);
await listen(certificates.http, env.CERTIFICATE_API_PORT);
await listen(revocation.http, env.REVOCATION_SERVICE_PORT);
await listen(notifications.http, env.NOTIFICATION_SERVICE_PORT);
const running = [signer, processor, certificates, revocation, notifications];
for (const service of running) await service.start();

const mode = adapters.describe();
const base = `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}`;
process.stdout.write(`
DIVOC-TS is running (${Object.values(mode).some((value) => !/pglite|in-process|memory|files|dev issuer/.test(value)) ? 'mixed' : 'embedded'} mode)
  database ${mode.db} · bus ${mode.bus} · cache ${mode.cache} · config ${mode.config} · auth ${mode.auth}
  signing key ${key.type} ${key.keyId} · issuer ${env.CERTIFICATE_ISSUER}

  vaccination-api        ${base}:${env.VACCINATION_API_PORT}   (OpenAPI: ${base}:${env.VACCINATION_API_PORT}/docs)
  certificate-signer     ${base}:${env.CERTIFICATE_SIGNER_PORT}/health/ready
  certificate-processor  ${base}:${env.CERTIFICATE_PROCESSOR_PORT}/health/ready
  certificate-api        ${base}:${env.CERTIFICATE_API_PORT}   (OpenAPI: ${base}:${env.CERTIFICATE_API_PORT}/docs)
  revocation-service     ${base}:${env.REVOCATION_SERVICE_PORT}   (status lists: ${base}:${env.REVOCATION_SERVICE_PORT}/status-lists/1)
  notification-service   ${base}:${env.NOTIFICATION_SERVICE_PORT}   (no SMS or email channel in embedded mode)

A token the embedded auth accepts (in another terminal):
  TOKEN=$(pnpm divoc token --roles facility-staff)
Then certify the DDCC sample and ask for its status: see README.md, "Issue a certificate".
Stop with Ctrl-C.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  for (const service of running.reverse()) await service.stop();
  await api.stop();
  await system.registry.close();
  await adapters.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

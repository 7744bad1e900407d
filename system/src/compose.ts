import {
  createCertificateApi,
  createPdfRenderer,
  createTravelExports,
  type TravelExportKeys,
} from '@divoc/certificate-api';
import { loadExportKeys, TravelExportEnv, travelExportSettings } from '@divoc/certificate-api/settings';
import { createCertificateProcessor } from '@divoc/certificate-processor';
import { createCertificateSigner } from '@divoc/certificate-signer';
import { credentialConfigFrom, IssuerEnv, type SigningKey } from '@divoc/credentials';
import { createNotificationService } from '@divoc/notification-service';
import {
  type Adapters,
  type ConfigRegistry,
  createEtcdConfig,
  createMetricsRegistry,
  type Database,
  type EtcdConfigKeys,
  type EventBus,
  InfrastructureEnv,
  type Logger,
  type RecipientDirectory,
  type Registry,
} from '@divoc/platform';
import { createRevocationService } from '@divoc/revocation-service';
import { migrate } from '@divoc/store';
import { createVaccinationApi } from '@divoc/vaccination-api';
import type { z } from 'zod';

export const SystemEnv = InfrastructureEnv.extend(IssuerEnv.shape).extend(TravelExportEnv.shape);
export type SystemEnv = z.infer<typeof SystemEnv>;

export interface ComposeOptions {
  adapters: Adapters;
  env: SystemEnv;
  key: SigningKey;
  /** A logger per service (tests pass silent ones or capture them). */
  logger: (service: string) => Logger;
}

/**
 * The services on one set of adapters, as `pnpm start` runs them and as the end-to-end suites drive
 * them. Each `make` call builds a fresh instance, so a test can stop the signer and start another one
 * (a crash and a restart) while the rest keeps running.
 */
export const composeSystem = async ({ adapters, env, key, logger }: ComposeOptions) => {
  await migrate(adapters.db, logger('migrations'));
  const configMetrics = createMetricsRegistry('config', { defaults: false });
  const { keys, registry } = await createEtcdConfig(adapters.config, env.DIVOC_CONFIG_DEFAULTS, {
    logger: logger('config'),
    metrics: configMetrics,
  });
  const metrics = (service: string): Registry => createMetricsRegistry(service, { defaults: false });
  const common = (service: string) => ({
    db: adapters.db,
    bus: adapters.bus,
    logger: logger(service),
    metrics: metrics(service),
    authenticator: adapters.authenticator,
  });
  const trustedKeys = [{ ...key, controller: env.CERTIFICATE_ISSUER }];
  // Embedded mode creates test keys once under DIVOC_DATA_DIR; otherwise exports without keys answer 503.
  const exportKeys = await loadExportKeys(env);
  const statusListUrl = (listId: number) => `${env.CERTIFICATE_STATUS_BASE_URL}${listId}`;
  const credentialConfig = () =>
    credentialConfigFrom(env, { icd: registry.get(keys.ICD), vaccineIcd: registry.get(keys.VACCINE_ICD) });
  return {
    keys: keys as EtcdConfigKeys,
    registry: registry as ConfigRegistry,
    /** `divoc_config_rejected_total` and `divoc_config_value_valid` of the registry. */
    configMetrics,
    credentialConfig,
    make: {
      vaccinationApi: (options: { outboxSweepIntervalMs?: number; updateLimit?: number } = {}) =>
        createVaccinationApi({
          ...common('vaccination-api'),
          vaccines: () => registry.get(keys.VACCINE_ICD),
          ...options,
        }),
      /** Options replace ports too (fault tests hand the signer an interruptible database or a flaky bus). */
      signer: (
        options: { concurrency?: number; batchSize?: number; updateLimit?: number; db?: Database; bus?: EventBus } = {},
      ) =>
        createCertificateSigner({
          ...common('certificate-signer'),
          key: () => key,
          config: credentialConfig,
          statusListUrl,
          updateLimit: 100,
          ...options,
        }),
      /** `recipients`: recipient provisioning on (a Keycloak directory). */
      processor: (options: { recipients?: RecipientDirectory } = {}) =>
        createCertificateProcessor({ ...common('certificate-processor'), ...options }),
      /** `port`: where it will listen (the SHC issuer in embedded mode); `exportKeys` replace the configured ones. */
      certificateApi: ({
        port = 4321,
        exportKeys: keysOverride,
        shcIssuer,
        ...options
      }: {
        onRender?: () => void;
        port?: number;
        exportKeys?: TravelExportKeys;
        /** SHC_ISSUER for this instance. */
        shcIssuer?: string;
      } = {}) =>
        createCertificateApi({
          ...common('certificate-api'),
          cache: adapters.cache,
          issuer: env.CERTIFICATE_ISSUER,
          trustedKeys: () => trustedKeys,
          exports: createTravelExports(
            travelExportSettings({ ...env, SHC_ISSUER: shcIssuer ?? env.SHC_ISSUER }, port, { registry, keys }),
            keysOverride ?? exportKeys,
          ),
          renderer: createPdfRenderer({
            template: (kind) =>
              registry.get(kind === 'vaccination' ? keys.vaccineCertificateTemplate : keys.testCertificateTemplate),
            icd: () => registry.get(keys.ICD),
            ...options,
          }),
        }),
      /** Without channels (embedded mode sends nothing): the delivery log and endpoint still work. */
      notificationService: (options: Partial<Parameters<typeof createNotificationService>[0]> = {}) =>
        createNotificationService({
          ...common('notification-service'),
          templates: () => registry.get(keys.NOTIFICATION_TEMPLATES),
          channels: {},
          downloadUrl: 'http://localhost:4321/certificate/api/certificatePDF/{preEnrollmentCode}',
          ...options,
        }),
      revocationService: (options: { publishIntervalMs?: number } = {}) =>
        createRevocationService({
          ...common('revocation-service'),
          cache: adapters.cache,
          issuer: env.CERTIFICATE_ISSUER,
          key: () => key,
          trustedKeys: () => trustedKeys,
          statusListUrl,
          ...options,
        }),
    },
  };
};
export type ComposedSystem = Awaited<ReturnType<typeof composeSystem>>;

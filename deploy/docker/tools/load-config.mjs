// Loads the default configuration (one file per etcd key, DIVOC_CONFIG_DEFAULTS, e.g. /app/etcd-config) into
// etcd: the Kubernetes Job divoc-etcd-config and the compose `init-config` service run it at every deployment.
// (Operators with a checkout use the same logic as `pnpm divoc config check|push`; the image has no CLI.)
//
//   node services/<service>/tools/load-config.mjs [--overwrite] [--check]
//
// Every file is validated first with the schema the services use and the cross-key rules (VACCINE_ICD → ICD,
// against the values etcd holds for keys the directory lacks); one invalid or unknown file stops the whole load
// before anything is written. By default only keys that etcd does not hold yet are written, so values an
// operator changed with `etcdctl put` survive a redeployment; --overwrite writes every key. --check validates
// the files and exits without touching etcd.
// Reads ETCD_HOSTS (required unless --check), ETCD_PREFIX, DIVOC_CONFIG_DEFAULTS, LOG_LEVEL.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigFilesError,
  createEtcdConfigStore,
  createLogger,
  EnvironmentError,
  InfrastructureEnv,
  parseEnv,
  pushConfig,
  validateConfigFiles,
} from '@divoc/platform';

const main = async () => {
  const { values } = parseArgs({
    options: { overwrite: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } },
  });
  const env = parseEnv(InfrastructureEnv);
  const logger = createLogger({ service: 'load-config', level: env.LOG_LEVEL });
  const directory = resolve(env.DIVOC_CONFIG_DEFAULTS);
  if (values.check) {
    const texts = await validateConfigFiles(directory);
    logger.info({ directory, keys: Object.keys(texts) }, 'configuration files are valid');
    return;
  }
  if (!env.ETCD_HOSTS) throw new EnvironmentError(['ETCD_HOSTS is required (e.g. http://etcd:2379)']);

  const store = createEtcdConfigStore({ hosts: env.ETCD_HOSTS, prefix: env.ETCD_PREFIX, logger });
  try {
    const texts = await validateConfigFiles(directory, (key) => store.get(key));
    logger.info({ directory, keys: Object.keys(texts) }, 'configuration files are valid');
    const { written, kept } = await pushConfig(store, texts, { overwrite: values.overwrite });
    logger.info({ prefix: env.ETCD_PREFIX, written, kept }, `wrote ${written.length} key(s), kept ${kept.length}`);
  } finally {
    await store.close();
  }
};

main().catch((error) => {
  const known = error instanceof EnvironmentError || error instanceof ConfigFilesError;
  process.stderr.write(`load-config: ${known ? error.message : `failed: ${error.message}`}\n`);
  process.exitCode = 1;
});

export { createEtcdConfigStore, type EtcdConfigStoreOptions } from './etcd.js';
export { createFileConfigStore, type FileConfigStoreOptions } from './files.js';
export type { ConfigStore } from './port.js';
export {
  type ConfigKey,
  type ConfigLookup,
  type ConfigRegistry,
  type ConfigRegistryOptions,
  createConfigRegistry,
  createEtcdConfigKeys,
  type EtcdConfigKeys,
  etcdConfigKeyList,
  loadDefaultConfig,
} from './registry.js';
export { ConfigFilesError, pullConfig, pushConfig, validateConfigFiles } from './sync.js';

/**
 * The configuration store port (DESIGN §4, §10): etcd in production, the `etcd-config/` files in
 * embedded mode. Values are strings (JSON text); the typed registry on top validates them.
 */
export interface ConfigStore {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  /** Calls `onChange` with the new value (undefined when deleted) until the returned function is called. */
  watch(key: string, onChange: (value: string | undefined) => void): Promise<() => void>;
  health(): Promise<void>;
  close(): Promise<void>;
}

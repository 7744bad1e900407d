import { Etcd3, type IKeyValue, type IOptions, type Namespace, type Watcher } from 'etcd3';
import type { Logger } from '../logging.js';
import type { ConfigStore } from './port.js';

export interface EtcdConfigStoreOptions {
  /** e.g. `['http://127.0.0.1:2379']` (ETCD_HOSTS, comma separated, split by the caller). */
  hosts: string[];
  /** Prepended to every key, so tests (or tenants) do not see each other's keys. Default ''. */
  prefix?: string;
  logger: Logger;
  /** Deadline of one get/put call. Default 5 s. */
  callTimeoutMs?: number;
  /** `health()` rejects after this long when etcd does not answer. Default 2 s. */
  healthTimeoutMs?: number;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, message: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

type Backoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/**
 * How long the watch stream waits before reconnecting: exponential with jitter, from 100 ms up to 5 s (etcd3's
 * default goes up to 30 s — too long for a configuration change to wait after a short etcd outage).
 */
const watchBackoff = (attempt = 0): Backoff => ({
  duration: Math.round(Math.min(100 * 2 ** attempt, 5_000) * (0.75 + Math.random() / 4)),
  next: () => watchBackoff(attempt + 1),
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** One observation of a key: its value (undefined = absent) as of an etcd revision. */
interface Observation {
  revision: bigint;
  value: string | undefined;
}

/**
 * The production configuration store: etcd v3 through `etcd3` (DESIGN §4, §10).
 *
 * Watches survive disconnections: `etcd3` re-subscribes and replays the changes it missed, and on every
 * (re)connection the key is read again, so a change made while disconnected (or compacted away) is never
 * missed. Observations are ordered by etcd revision, so a late read never overrides a newer event, and the
 * callback only fires when the value actually changed.
 */
export const createEtcdConfigStore = ({
  hosts,
  prefix = '',
  logger,
  callTimeoutMs = 5_000,
  healthTimeoutMs = 2_000,
}: EtcdConfigStoreOptions): ConfigStore => {
  const log = logger.child({ component: 'config-etcd' });
  const client = new Etcd3({
    hosts,
    dialTimeout: callTimeoutMs,
    faultHandling: { watchBackoff: watchBackoff() },
    // gRPC's own reconnection backoff (default: up to 2 min) bounded the same way.
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 5_000 },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  });
  const namespace: Namespace = prefix === '' ? client : client.namespace(prefix);
  const stops = new Set<() => Promise<void>>();
  let closed = false;

  const read = async (key: string): Promise<Observation> => {
    const response = await namespace.get(key).exec();
    const kv = response.kvs[0];
    return { revision: BigInt(response.header.revision), value: kv ? kv.value.toString('utf8') : undefined };
  };

  const watchKey = async (key: string, onChange: (value: string | undefined) => void): Promise<() => void> => {
    // The baseline: changes after this revision are reported, this value itself is not.
    let current = await read(key);
    let watcher: Watcher | undefined;
    let stopped = false;

    const observe = (next: Observation): void => {
      if (stopped || next.revision <= current.revision) return;
      const changed = next.value !== current.value;
      current = next;
      if (!changed) return;
      try {
        onChange(next.value);
      } catch (error) {
        log.error({ key, err: error }, 'configuration watcher failed');
      }
    };

    /** Reads the key again after a (re)connection, retrying until it succeeds or the watch stops. */
    const reread = async (): Promise<void> => {
      for (let attempt = 0; !stopped; attempt += 1) {
        try {
          observe(await read(key));
          return;
        } catch (error) {
          if (attempt === 0) log.warn({ key, err: error }, 'could not re-read configuration key; retrying');
          await sleep(Math.min(250 * 2 ** attempt, 5_000));
        }
      }
    };

    const fromEvent = (kv: IKeyValue, deleted: boolean): void =>
      observe({ revision: BigInt(kv.mod_revision), value: deleted ? undefined : kv.value.toString('utf8') });

    /** Consecutive watch failures, for the re-creation backoff (reset once a watch has lived for a while). */
    let failures = 0;
    let connectedAt = 0;
    const attach = (): Watcher => {
      const created = namespace.watch().key(key).watcher();
      let disconnected = false;
      created
        .on('connected', () => {
          if (disconnected) log.info({ key }, 'configuration watch reconnected');
          disconnected = false;
          connectedAt = Date.now();
          void reread();
        })
        .on('put', (kv) => fromEvent(kv, false))
        .on('delete', (kv) => fromEvent(kv, true))
        .on('disconnected', (error) => {
          if (!disconnected) log.warn({ key, err: error }, 'configuration watch disconnected; reconnecting');
          disconnected = true;
        })
        .on('error', (error) => {
          // Not recoverable by etcd3 itself (e.g. the revision to resume from was compacted): start afresh.
          log.error({ key, err: error }, 'configuration watch failed; re-creating it');
          if (watcher !== created) return;
          void created.cancel().catch(() => undefined);
          watcher = undefined;
          failures = Date.now() - connectedAt > 30_000 ? 1 : failures + 1;
          void sleep(Math.min(100 * 2 ** (failures - 1), 5_000)).then(() => {
            if (!stopped) watcher = attach();
          });
        });
      return created;
    };

    const connected = new Promise<void>((resolve, reject) => {
      watcher = attach();
      watcher.once('connected', () => resolve());
      watcher.once('error', reject);
    });
    const stop = async (): Promise<void> => {
      stopped = true;
      stops.delete(stop);
      const active = watcher;
      watcher = undefined;
      // Cancelling waits for etcd's acknowledgement; never let an unreachable etcd hold up a shutdown.
      if (active) await withTimeout(active.cancel(), healthTimeoutMs, 'watch cancel timed out').catch(() => undefined);
    };
    stops.add(stop);
    try {
      await withTimeout(connected, callTimeoutMs, `etcd did not accept a watch on "${key}" in time`);
    } catch (error) {
      await stop();
      throw error;
    }
    return () => void stop();
  };

  return {
    async get(key) {
      return (await read(key)).value;
    },

    async put(key, value) {
      await namespace.put(key).value(value).exec();
    },

    watch(key, onChange) {
      if (closed) return Promise.reject(new Error('configuration store is closed'));
      return watchKey(key, onChange);
    },

    async health() {
      await withTimeout(
        client.maintenance.status({ deadline: Date.now() + healthTimeoutMs }),
        healthTimeoutMs,
        `etcd did not answer within ${healthTimeoutMs} ms`,
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...stops].map((stop) => stop()));
      client.close();
    },
  };
};

import { execFileSync } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Database, EventBus, OutgoingMessage } from '@divoc/platform';

/**
 * Fault injection for the end-to-end suites. With real infrastructure the faults are real (a TCP
 * proxy that drops every Postgres connection, a Kafka broker that is stopped); with the embedded
 * adapters the same faults are simulated at the port, with the errors the real drivers raise.
 */

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A database whose every call fails like an unreachable server while `down` is set. */
export const interruptibleDatabase = (db: Database) => {
  let down = false;
  const guard = <T>(call: () => Promise<T>): Promise<T> => (down ? Promise.reject(refused()) : call());
  const wrapped: Database = {
    kind: db.kind,
    query: (sql, params) => guard(() => db.query(sql, params)),
    exec: (sql) => guard(() => db.exec(sql)),
    transaction: (work) => guard(() => db.transaction(work)),
    health: () => guard(() => db.health()),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    interrupt: () => {
      down = true;
    },
    restore: () => {
      down = false;
    },
  };
};

/** A TCP proxy in front of a server; `interrupt` drops every connection and refuses new ones. */
export const tcpProxy = async (targetHost: string, targetPort: number) => {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = createConnection({ host: targetHost, port: targetPort });
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      const listening = server;
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    async interrupt() {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
    },
    restore: listen,
    close: async () => {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
    },
  };
};

/** A bus whose publish fails the next `times` calls for one topic (a broker hiccup after a commit). */
export const flakyPublishBus = (bus: EventBus, topic: string, times: number): EventBus => {
  let remaining = times;
  return {
    ...bus,
    publish: (target: string, messages: OutgoingMessage[]) => {
      if (target === topic && remaining > 0) {
        remaining--;
        return Promise.reject(
          Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable: true }),
        );
      }
      return bus.publish(target, messages);
    },
  };
};

const infraScript = (action: string) =>
  execFileSync(
    'bash',
    ['-c', `source "${join(import.meta.dirname, '..', '..', 'scripts', 'infra', 'lib.sh')}" && ${action}`],
    {
      stdio: 'pipe',
      timeout: 120_000,
    },
  );

/** Stops and starts the local Kafka broker of scripts/infra (real-infrastructure runs only). */
export const kafkaBroker = {
  stop: () => infraScript('kafka_down'),
  start: () => infraScript('mkdir -p "$RUN_DIR" "$LOG_DIR" && kafka_up'),
};

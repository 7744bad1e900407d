import type { HttpApp } from './http/server.js';
import type { Logger } from './logging.js';

/** What a service's composition root hands to the runner. */
export interface RunnableService {
  http: HttpApp;
  /** Starts background work (consumers) after the HTTP server listens. */
  start?(): Promise<void>;
  /** Stops consuming (finishing and committing the batch in flight) and closes the HTTP server. */
  stop(): Promise<void>;
}

export interface RunOptions {
  name: string;
  port: number;
  host?: string;
  logger: Logger;
  service: RunnableService;
  /** Closes the adapters (pools, producers) once the service has stopped. */
  close: () => Promise<void>;
}

/**
 * Listens, starts, and on SIGTERM/SIGINT shuts down in order (DESIGN §3, graceful shutdown): stop
 * consuming and finish in-flight work, commit, stop accepting HTTP requests and finish those in
 * flight, then close pools and producers.
 */
export const runService = async ({
  name,
  port,
  host = '0.0.0.0',
  logger,
  service,
  close,
}: RunOptions): Promise<void> => {
  await service.http.listen({ port, host });
  await service.start?.();
  logger.info({ port }, `${name} started`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await service.stop();
      await close();
      logger.info(`${name} stopped`);
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
};

import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** One Prometheus registry per service, labelled with the service name, with Node's default metrics. */
export const createMetricsRegistry = (service: string, { defaults = true } = {}): Registry => {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'divoc_' });
  return registry;
};

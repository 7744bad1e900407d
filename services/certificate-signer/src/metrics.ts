import { Counter, type Registry } from '@divoc/platform';

export interface SignerMetrics {
  issued: Counter<'kind'>;
  outcomes: Counter<'status'>;
}

export const createSignerMetrics = (registry: Registry): SignerMetrics => ({
  issued: new Counter({
    name: 'divoc_certificates_issued_total',
    help: 'Certificates signed and stored',
    labelNames: ['kind'],
    registers: [registry],
  }),
  outcomes: new Counter({
    name: 'divoc_certify_outcomes_total',
    help: 'Certify requests by outcome (issued, duplicate, failed)',
    labelNames: ['status'],
    registers: [registry],
  }),
});

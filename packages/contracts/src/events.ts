import { z } from 'zod';
import { contactUri, preEnrollmentCode } from './fields.js';
import { API_VERSIONS } from './requests.js';

/**
 * The Kafka events of DESIGN §6. Every topic is keyed by preEnrollmentCode (notify: by recipient),
 * so everything that happens to one beneficiary stays in order on one partition.
 */
export const TOPICS = {
  certify: 'certify',
  certifyAck: 'certify_ack',
  certified: 'certified',
  revokeCert: 'revoke_cert',
  revoked: 'revoked',
  notify: 'notify',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/**
 * Partitions per topic, created explicitly at deploy (DESIGN §6): more partitions than consumers
 * of the busiest group ever run, since a partition is the unit of parallelism. Dead-letter topics
 * get one partition each (they are read by people and `divoc dlq replay`, not by load).
 */
export const TOPIC_PARTITIONS: Record<Topic, number> = {
  certify: 12,
  certify_ack: 12,
  certified: 12,
  revoke_cert: 6,
  revoked: 6,
  notify: 6,
};

/** Every topic the system uses with its partition count, dead-letter topics included. */
export const topicSpecs = (): { topic: string; partitions: number }[] =>
  Object.entries(TOPIC_PARTITIONS).flatMap(([topic, partitions]) => [
    { topic, partitions },
    { topic: dlqTopic(topic), partitions: 1 },
  ]);

export const CERTIFICATE_KINDS = ['vaccination', 'test'] as const;
export const CertificateKind = z.enum(CERTIFICATE_KINDS);
export type CertificateKind = z.infer<typeof CertificateKind>;

const requestId = z.string().min(1).max(64);
const certificateId = z.string().min(1).max(64);
const isoTimestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO timestamp');

/** Where a request came from when it was a bulk CSV row (upload progress is counted from acks). */
export const UploadRef = z.object({ uploadId: z.string().min(1), row: z.number().int().min(1) });

/** `certify`: one validated request, published by the gateway, consumed by the signer. */
export const CertifyEvent = z.object({
  requestId,
  operation: z.enum(['certify', 'update']),
  kind: CertificateKind,
  apiVersion: z.enum(API_VERSIONS),
  /** The request item exactly as validated by the gateway (CertificationRequest[V2] or TestCertificationRequest). */
  payload: z.record(z.string(), z.unknown()),
  previousCertificateId: certificateId.optional(),
  actor: z.string().min(1),
  receivedAt: isoTimestamp,
  upload: UploadRef.optional(),
});
export type CertifyEvent = z.infer<typeof CertifyEvent>;

export const ACK_STATUSES = ['issued', 'duplicate', 'failed'] as const;

/** `certify_ack`: the outcome of one request, for the request ledger and upload counters. */
export const CertifyAckEvent = z.object({
  requestId,
  preEnrollmentCode,
  status: z.enum(ACK_STATUSES),
  certificateId: certificateId.optional(),
  error: z.string().optional(),
  upload: UploadRef.optional(),
  at: isoTimestamp,
});
export type CertifyAckEvent = z.infer<typeof CertifyAckEvent>;

/** `certified`: a certificate exists (new, or replacing `previousCertificateId`). */
export const CertifiedEvent = z.object({
  requestId,
  certificateId,
  preEnrollmentCode,
  programId: z.string().optional(),
  dose: z.number().int().min(0),
  totalDoses: z.number().int().min(0).optional(),
  kind: CertificateKind,
  previousCertificateId: certificateId.optional(),
  contact: z.array(contactUri),
  /** What a notification template may print: the beneficiary's name and the vaccine or test. */
  name: z.string(),
  product: z.string(),
  issuedAt: isoTimestamp,
});
export type CertifiedEvent = z.infer<typeof CertifiedEvent>;

/** `revoke_cert`: a validated revocation request, applied by revocation-service. */
export const RevokeCertEvent = z.object({
  requestId,
  preEnrollmentCode,
  doses: z.array(z.number().int().min(1)).optional(),
  allDoses: z.boolean().optional(),
  reason: z.string().min(1).max(500),
  actor: z.string().min(1),
  requestedAt: isoTimestamp,
});
export type RevokeCertEvent = z.infer<typeof RevokeCertEvent>;

/** `revoked`: one certificate is no longer valid. */
export const RevokedEvent = z.object({
  certificateId,
  preEnrollmentCode,
  dose: z.number().int().min(0),
  reason: z.string(),
  revokedAt: isoTimestamp,
  contact: z.array(contactUri).optional(),
});
export type RevokedEvent = z.infer<typeof RevokedEvent>;

/** `notify`: send one templated message to one recipient. */
export const NotifyEvent = z.object({
  recipient: contactUri,
  template: z.string().min(1).max(100),
  data: z.record(z.string(), z.union([z.string(), z.number()])),
});
export type NotifyEvent = z.infer<typeof NotifyEvent>;

/** `<topic>.dlq`: the original message, why it failed and how often it was tried. */
export const DeadLetter = z.object({
  topic: z.string(),
  key: z.string().nullable(),
  value: z.string(),
  error: z.string(),
  attempts: z.number().int().min(1),
  failedAt: isoTimestamp,
});
export type DeadLetter = z.infer<typeof DeadLetter>;

export const EVENT_SCHEMAS = {
  [TOPICS.certify]: CertifyEvent,
  [TOPICS.certifyAck]: CertifyAckEvent,
  [TOPICS.certified]: CertifiedEvent,
  [TOPICS.revokeCert]: RevokeCertEvent,
  [TOPICS.revoked]: RevokedEvent,
  [TOPICS.notify]: NotifyEvent,
} as const;

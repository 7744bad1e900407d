import type { CertificateKind } from '@divoc/contracts';
import { credentialQr, type QrMatrix, qrPng } from '@divoc/credentials';
import type { Cache, Logger } from '@divoc/platform';
import type { CertificateRow } from '@divoc/store';

/** Renders certificate PDFs from the template currently in force (packages/documents). */
export interface PdfRenderer {
  /** Identifies the template in force for a kind (a content hash): part of every cache key. */
  templateVersion(kind: CertificateKind): string;
  /** The languages the template has labels for. */
  languages(kind: CertificateKind): string[];
  /** `qr` replaces the credential's own QR (the EU-DCC and SMART Health Card variants of the PDF). */
  render(input: {
    certificate: CertificateRow;
    history: CertificateRow[];
    lang: string;
    qr?: QrMatrix;
  }): Promise<Buffer>;
}

export interface Artifacts {
  pdf(certificate: CertificateRow, history: () => Promise<CertificateRow[]>, lang: string): Promise<Buffer>;
  qrPng(certificate: CertificateRow): Promise<Buffer>;
  /** Drops every rendering of a beneficiary (a new, superseded or revoked certificate changes them all). */
  invalidateBeneficiary(preEnrollmentCode: string): Promise<void>;
}

const DAY = 24 * 3600;
const beneficiaryTag = (preEnrollmentCode: string) => `beneficiary:${preEnrollmentCode}`;

/**
 * Rendered PDFs and QR images, cached (Redis in production) by certificate id + template version +
 * language. A PDF shows the beneficiary's whole dose history, so every rendering is tagged with the
 * beneficiary and dropped when any of their certificates changes. The cache is an optimisation only:
 * when it is unavailable, documents are rendered on every request.
 */
export const createArtifacts = ({
  cache,
  renderer,
  logger,
}: {
  cache: Cache;
  renderer: PdfRenderer;
  logger: Logger;
}): Artifacts => {
  const cached = async (key: string, tag: string, produce: () => Promise<Buffer>): Promise<Buffer> => {
    const hit = await cache.get(key).catch((error: unknown) => {
      logger.warn({ err: error }, 'cache read failed; rendering');
      return undefined;
    });
    if (hit !== undefined) return hit;
    const value = await produce();
    await cache
      .set(key, value, DAY, [tag])
      .catch((error: unknown) => logger.warn({ err: error }, 'cache write failed'));
    return value;
  };
  return {
    pdf: (certificate, history, lang) =>
      cached(
        `pdf:${certificate.certificateId}:${renderer.templateVersion(certificate.kind)}:${lang}`,
        beneficiaryTag(certificate.preEnrollmentCode),
        async () => renderer.render({ certificate, history: await history(), lang }),
      ),
    qrPng: (certificate) =>
      cached(`qr:${certificate.certificateId}`, beneficiaryTag(certificate.preEnrollmentCode), async () =>
        qrPng((await credentialQr(certificate.credential)).matrix),
      ),
    invalidateBeneficiary: (preEnrollmentCode) => cache.invalidateTag(beneficiaryTag(preEnrollmentCode)),
  };
};

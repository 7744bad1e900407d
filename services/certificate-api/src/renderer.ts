import { createHash } from 'node:crypto';
import type { CertificateKind, CertificateTemplate, IcdConfig } from '@divoc/contracts';
import { credentialQr, type TestCredential, type VaccinationCredential } from '@divoc/credentials';
import { certificateView, renderCertificatePdf } from '@divoc/documents';
import type { PdfRenderer } from './artifacts.js';

export interface PdfRendererDeps {
  /** The templates in force (etcd `vaccineCertificateTemplate` / `testCertificateTemplate`, hot-reloaded). */
  template: (kind: CertificateKind) => CertificateTemplate;
  /** etcd `ICD` (the vaccine type shown on the certificate). */
  icd: () => IcdConfig;
  /** Called once per render (metrics, tests). */
  onRender?: () => void;
}

/** Template versions by template object: the registry hands out the same object until it changes. */
const versions = new WeakMap<object, string>();
const versionOf = (template: CertificateTemplate): string => {
  let version = versions.get(template);
  if (version === undefined) {
    version = createHash('sha256').update(JSON.stringify(template)).digest('base64url').slice(0, 16);
    versions.set(template, version);
  }
  return version;
};

/** Renders PDFs with packages/documents from the template currently in etcd. */
export const createPdfRenderer = ({ template, icd, onRender }: PdfRendererDeps): PdfRenderer => ({
  templateVersion: (kind) => versionOf(template(kind)),
  languages: (kind) => Object.keys(template(kind).labels),
  async render({ certificate, history, lang, qr }) {
    onRender?.();
    const credential = certificate.credential as unknown as VaccinationCredential | TestCredential;
    const view = certificateView(credential, {
      icd: icd(),
      history: history.map((row) => row.credential as unknown as VaccinationCredential),
    });
    const matrix = qr ?? (await credentialQr(credential)).matrix;
    return renderCertificatePdf({ template: template(certificate.kind), view, qr: matrix, lang });
  },
});

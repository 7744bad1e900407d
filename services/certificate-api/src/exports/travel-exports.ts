import type { IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import { credentialQr, type QrMatrix, qrPng, type VaccinationCredential } from '@divoc/credentials';
import { type EuDccMaps, type EuHolderNames, exportEuDcc, hc1QrMatrix } from '@divoc/eu-dcc';
import { buildDdccDocument, type DdccQrAttachment, type FhirBundle } from '@divoc/fhir';
import { HttpError } from '@divoc/platform';
import { exportShc, MAX_SINGLE_QR_JWS, type ShcMaps, shcJwks, shcQrContent, shcQrMatrix } from '@divoc/shc';
import type { TravelExportKeys } from './keys.js';

export interface TravelExportSettings {
  /** `FHIR_PUBLIC_HEALTH_AUTHORITY`: the authority named in EU `v[0].is` and the FHIR Organization. */
  publicHealthAuthority: string;
  /** `EU_CERTIFICATE_EXPIRY`, months. */
  euExpiryMonths: number;
  /** `EU_CERTIFICATE_ISSUER_COUNTRY`: the state in the UVCI and CWT `iss`; default the country of vaccination. */
  euIssuerCountry?: string | undefined;
  /** The SHC `iss`: the URL under which certificate-api serves `/.well-known/jwks.json`. */
  shcIssuer: string;
  /** The etcd maps in force (hot-reloaded). */
  euMaps: () => EuDccMaps;
  shcMaps: () => ShcMaps;
  icd: () => IcdConfig;
  vaccineIcd: () => VaccineIcdConfig;
}

/** An export, as its QR content and QR symbol (what the QR and PDF downloads show). */
export interface TravelQr {
  content: string;
  matrix: QrMatrix;
}

export interface TravelExports {
  /** Which exports have keys (logged at start). */
  enabled: { euDcc: boolean; shc: boolean };
  euDcc(credential: VaccinationCredential, names: EuHolderNames): TravelQr;
  /** One card with every dose (in dose order) when it fits one QR, else the latest dose alone. */
  shc(doses: readonly VaccinationCredential[]): Promise<TravelQr>;
  fhir(credential: VaccinationCredential, doses: readonly VaccinationCredential[]): Promise<FhirBundle>;
  jwks(): ReturnType<typeof shcJwks>;
}

const notConfigured = (what: string, variables: string) =>
  new HttpError(
    503,
    'EXPORT_NOT_CONFIGURED',
    `${what} are not enabled on this deployment: the operator must set ${variables} (docs/configuration.md)`,
  );

/** EU-DCC, SMART Health Card and WHO DDCC FHIR exports of issued credentials, with the deployment's keys. */
export const createTravelExports = (settings: TravelExportSettings, keys: TravelExportKeys): TravelExports => {
  const shcCard = async (doses: readonly VaccinationCredential[]): Promise<TravelQr> => {
    const key = keys.shc?.current;
    if (key === undefined) throw notConfigured('SMART Health Cards', 'SHC_CERTIFICATE_PRIVATE_KEY');
    const ordered = [...doses].sort((a, b) => a.evidence[0].dose - b.evidence[0].dose);
    const config = { maps: settings.shcMaps(), issuer: settings.shcIssuer };
    let { jws } = await exportShc(ordered, config, key);
    if (jws.length > MAX_SINGLE_QR_JWS && ordered.length > 1) {
      // The SHC rule is one QR per card: a long history yields to the latest dose.
      ({ jws } = await exportShc(ordered.slice(-1), config, key));
    }
    return { content: shcQrContent(jws), matrix: shcQrMatrix(jws) };
  };

  return {
    enabled: { euDcc: keys.euDsc !== undefined, shc: keys.shc !== undefined },

    euDcc(credential, names) {
      if (keys.euDsc === undefined) {
        throw notConfigured(
          'EU Digital COVID Certificates',
          'EU_CERTIFICATE_PUBLIC_KEY and EU_CERTIFICATE_PRIVATE_KEY',
        );
      }
      const { hc1 } = exportEuDcc(
        credential,
        names,
        {
          certificateIssuer: settings.publicHealthAuthority,
          maps: settings.euMaps(),
          issuerCountry: settings.euIssuerCountry,
          expiryMonths: settings.euExpiryMonths,
        },
        keys.euDsc,
      );
      return { content: hc1, matrix: hc1QrMatrix(hc1) };
    },

    shc: shcCard,

    async fhir(credential, doses) {
      const { bytes, matrix } = await credentialQr(credential);
      const qr: DdccQrAttachment[] = [{ category: 'divoc', content: bytes, png: qrPng(matrix) }];
      if (keys.shc !== undefined) {
        const card = await shcCard(doses);
        qr.push({ category: 'shc', content: card.content, png: qrPng(card.matrix) });
      }
      return buildDdccDocument(credential, {
        authority: { name: settings.publicHealthAuthority },
        icd: settings.icd(),
        vaccineIcd: settings.vaccineIcd(),
        qr,
      });
    },

    jwks() {
      if (keys.shc === undefined) return { keys: [] };
      return shcJwks([keys.shc.current, ...keys.shc.retired]);
    },
  };
};

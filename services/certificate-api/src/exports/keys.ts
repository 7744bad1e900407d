import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDscSigner, type DscSigner, EuDccSignerError, generateDsc } from '@divoc/eu-dcc';
import { EnvironmentError } from '@divoc/platform';
import { generateShcKey, type ShcSigningKey, shcPublicJwk, shcSigningKey } from '@divoc/shc';
import type { JWK } from 'jose';

/** The keys of the travel exports; an export whose key is not configured answers 503 and names the variable. */
export interface TravelExportKeys {
  /** EU-DCC: the Document Signer Certificate and its key. */
  euDsc?: DscSigner | undefined;
  /** SMART Health Cards: the signing key, plus rotated-out public keys still listed in the JWKS. */
  shc?: { current: ShcSigningKey; retired: readonly (JWK & { kid: string })[] } | undefined;
}

export interface ExportKeySettings {
  /** `EU_CERTIFICATE_PUBLIC_KEY`: the DSC (X.509 PEM). */
  euCertificate?: string | undefined;
  /** `EU_CERTIFICATE_PRIVATE_KEY`: its PKCS#8 (or SEC1) private key. */
  euPrivateKey?: string | undefined;
  /** `SHC_CERTIFICATE_PRIVATE_KEY`: a P-256 private key (PEM). */
  shcPrivateKey?: string | undefined;
  /** `SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS`: PEM public keys of rotated-out SHC keys (cards they signed stay verifiable). */
  shcRetiredPublicKeys?: string | undefined;
  /** Embedded mode only: test keys are kept (and created on first use) here. */
  developmentDirectory?: string | undefined;
  /** Subject country of a development DSC (ISO alpha-2). */
  developmentCountry?: string | undefined;
}

const PUBLIC_KEY_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

const euFromSettings = async (settings: ExportKeySettings): Promise<DscSigner | undefined> => {
  const { euCertificate, euPrivateKey, developmentDirectory } = settings;
  if (euCertificate !== undefined || euPrivateKey !== undefined) {
    if (euCertificate === undefined || euPrivateKey === undefined) {
      throw new EnvironmentError([
        'EU_CERTIFICATE_PUBLIC_KEY and EU_CERTIFICATE_PRIVATE_KEY go together: set both (the DSC and its key) or neither',
      ]);
    }
    try {
      return createDscSigner({ certificate: euCertificate, privateKey: euPrivateKey });
    } catch (error) {
      if (error instanceof EuDccSignerError) throw new EnvironmentError([`EU_CERTIFICATE_* ${error.message}`]);
      throw error;
    }
  }
  if (developmentDirectory === undefined) return undefined;
  const certificatePath = join(developmentDirectory, 'eu-dsc.crt.pem');
  const keyPath = join(developmentDirectory, 'eu-dsc.key.pem');
  if (!existsSync(certificatePath) || !existsSync(keyPath)) {
    const country = /^[A-Z]{2}$/.test(settings.developmentCountry ?? '')
      ? (settings.developmentCountry as string)
      : 'IN';
    // A self-signed test DSC: no EU verifier trusts it, which is right for a development system.
    const generated = await generateDsc({
      subject: { C: country, O: 'DIVOC-TS development', CN: 'DIVOC-TS test DSC' },
    });
    mkdirSync(developmentDirectory, { recursive: true });
    writeFileSync(keyPath, generated.privateKeyPem, { mode: 0o600 });
    writeFileSync(certificatePath, generated.certificatePem);
  }
  return createDscSigner({
    certificate: readFileSync(certificatePath, 'utf8'),
    privateKey: readFileSync(keyPath, 'utf8'),
  });
};

const shcFromSettings = async (settings: ExportKeySettings): Promise<TravelExportKeys['shc']> => {
  const { shcPrivateKey, shcRetiredPublicKeys, developmentDirectory } = settings;
  let current: ShcSigningKey | undefined;
  try {
    if (shcPrivateKey !== undefined) current = await shcSigningKey(shcPrivateKey);
  } catch (error) {
    throw new EnvironmentError([`SHC_CERTIFICATE_PRIVATE_KEY ${(error as Error).message}`]);
  }
  if (current === undefined && developmentDirectory !== undefined) {
    const keyPath = join(developmentDirectory, 'shc.key.pem');
    if (!existsSync(keyPath)) {
      const generated = await generateShcKey();
      mkdirSync(developmentDirectory, { recursive: true });
      writeFileSync(keyPath, generated.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    }
    current = await shcSigningKey(readFileSync(keyPath, 'utf8'));
  }
  if (current === undefined) {
    if (shcRetiredPublicKeys !== undefined) {
      throw new EnvironmentError(['SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS is set without SHC_CERTIFICATE_PRIVATE_KEY']);
    }
    return undefined;
  }
  const retired: (JWK & { kid: string })[] = [];
  for (const block of shcRetiredPublicKeys?.match(PUBLIC_KEY_BLOCK) ?? []) {
    try {
      retired.push(await shcPublicJwk(createPublicKey(block)));
    } catch (error) {
      throw new EnvironmentError([`SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS ${(error as Error).message}`]);
    }
  }
  return { current, retired: retired.filter((jwk) => jwk.kid !== current.kid) };
};

/**
 * The EU DSC and the SHC key from the environment (DIVOC's variable names). In embedded mode, keys that
 * are not configured are created once under the development directory, so `pnpm start` exports work;
 * outside it an unconfigured export stays off. A half-configured or unusable key stops the service.
 */
export const loadTravelExportKeys = async (settings: ExportKeySettings): Promise<TravelExportKeys> => ({
  euDsc: await euFromSettings(settings),
  shc: await shcFromSettings(settings),
});

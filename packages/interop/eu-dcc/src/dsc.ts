import { randomBytes, webcrypto } from 'node:crypto';
import type { DccType } from './payload.js';
import { DCC_KEY_USAGE } from './verify.js';

/** The subject of a DSC and its CSR (DIVOC's `cert.conf`: C, ST, L, O, OU, CN). */
export interface DscSubject {
  /** ISO 3166-1 alpha-2 of the issuing state. */
  C: string;
  ST?: string | undefined;
  L?: string | undefined;
  O: string;
  OU?: string | undefined;
  CN: string;
}

export interface GenerateDscOptions {
  subject: DscSubject;
  /** ES256 (P-256, the EU primary algorithm; default) or PS256 (RSA, 3072 bits by default). */
  algorithm?: 'ES256' | 'PS256';
  rsaModulusLength?: 2048 | 3072 | 4096;
  /** Validity of the self-signed DSC; default 365 days from `notBefore`. */
  validityDays?: number;
  notBefore?: Date;
  /** DCC types the DSC may sign, as extended key usage; omitted = no EKU = all types. */
  types?: readonly DccType[];
}

export interface GeneratedDsc {
  /** PKCS#8 PEM (`EU_CERTIFICATE_PRIVATE_KEY`). */
  privateKeyPem: string;
  /** The PKCS#10 request for the national CSCA. */
  csrPem: string;
  /** A self-signed DSC for test and evaluation (`EU_CERTIFICATE_PUBLIC_KEY` until the CSCA-signed one arrives). */
  certificatePem: string;
  /** The kid of the self-signed DSC, base64 (a CSCA-signed certificate has its own). */
  kid: string;
}

const NAME_KEYS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;

/** RFC 4514 string; values are escaped. */
const distinguishedName = (subject: DscSubject): string => {
  if (!/^[A-Z]{2}$/.test(subject.C)) throw new RangeError(`subject C must be ISO 3166-1 alpha-2, got "${subject.C}"`);
  return NAME_KEYS.filter((key) => subject[key] !== undefined && subject[key] !== '')
    .map((key) => `${key}=${(subject[key] as string).replace(/([,+"\\<>;=#])/g, '\\$1')}`)
    .join(', ');
};

/**
 * A new DSC key pair, a CSR with the given subject, and a self-signed DSC (digitalSignature key usage,
 * optional DCC extended key usages). Used by `divoc keys eu-dsc`; the private key never leaves the
 * return value.
 */
export const generateDsc = async (options: GenerateDscOptions): Promise<GeneratedDsc> => {
  // @peculiar/x509 needs the reflect-metadata polyfill; load both only here, so importing this package
  // does not patch the global Reflect for everyone else.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const { dscKid } = await import('./hcert.js');

  const algorithm =
    options.algorithm === 'PS256'
      ? {
          name: 'RSA-PSS',
          hash: 'SHA-256',
          publicExponent: new Uint8Array([1, 0, 1]),
          modulusLength: options.rsaModulusLength ?? 3072,
          saltLength: 32,
        }
      : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const name = distinguishedName(options.subject);
  const notBefore = options.notBefore ?? new Date();
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 365) * 86_400_000);
  const extensions: InstanceType<typeof x509.Extension>[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (options.types !== undefined && options.types.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(options.types.map((type) => DCC_KEY_USAGE[type])));
  }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys,
    signingAlgorithm: algorithm,
    extensions,
  });
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: algorithm,
    extensions: [...extensions, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const body = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
    csrPem: `${csr.toString('pem')}\n`,
    certificatePem: `${certificate.toString('pem')}\n`,
    kid: Buffer.from(dscKid(new Uint8Array(certificate.rawData))).toString('base64'),
  };
};

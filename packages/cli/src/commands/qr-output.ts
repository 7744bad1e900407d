import { credentialQr, qrPng } from '@divoc/credentials';

/** The PNG of a credential's QR code (zipped JSON, binary byte mode, ECC M). */
export const writeQrPng = async (credential: object): Promise<Buffer> => qrPng((await credentialQr(credential)).matrix);

// TEST-ONLY signing keys for docker-compose: creates <dir>/private.pem, public.pem and key.json when <dir> holds
// no key yet (SIGNING_KEY_TYPE, default RSA), and keeps an existing key. Runs in the certificate-signer image
// (it needs @divoc/credentials). A real deployment generates its key offline (`divoc keys generate`) and
// stores it in a Kubernetes Secret (docs/operations.md).
//
//   node services/certificate-signer/tools/dev-keys.mjs /keys
import { loadOrCreateSigningKey } from '@divoc/credentials';

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: node dev-keys.mjs <directory>\n');
  process.exit(2);
}
const type = (process.env.SIGNING_KEY_TYPE ?? 'RSA').toUpperCase();
try {
  const { key, created } = loadOrCreateSigningKey(directory, type);
  process.stdout.write(
    `${JSON.stringify({ directory, type: key.type, keyId: key.keyId, created, note: 'TEST-ONLY key' })}\n`,
  );
} catch (error) {
  process.stderr.write(`dev-keys: ${error.message}\n`);
  process.exitCode = 1;
}

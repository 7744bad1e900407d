// The image's HEALTHCHECK: GET /health/live on the service's port; exit 0 when it answers 200.
// The slim Node image has no curl, so this runs on node's own fetch. The port is PORT when set, else the
// service's default port (the SERVICE variable is set by the Dockerfile).

const DEFAULT_PORTS = {
  'vaccination-api': 8000,
  'certificate-signer': 8001,
  'certificate-processor': 8002,
  'certificate-api': 4321,
  'revocation-service': 8003,
  'notification-service': 8765,
};

const port = process.env.PORT ?? DEFAULT_PORTS[process.env.SERVICE ?? ''];
if (port === undefined) {
  console.error(`healthcheck: set PORT or SERVICE (one of ${Object.keys(DEFAULT_PORTS).join(', ')})`);
  process.exit(2);
}

try {
  const response = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(4_000) });
  if (response.status !== 200) {
    console.error(`healthcheck: /health/live answered ${response.status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`healthcheck: /health/live on port ${port} did not answer (${error.message})`);
  process.exit(1);
}

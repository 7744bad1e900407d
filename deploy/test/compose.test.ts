import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  MAY_STAY_UNSET,
  readRepoFile,
  renderKustomize,
  run,
  runOk,
  SERVICE_PORTS,
  SERVICE_SCHEMAS,
  SERVICES,
  tempDir,
  variablesOf,
} from './support.js';

type ComposeService = {
  image?: string;
  build?: { args?: Record<string, string> };
  environment?: Record<string, string | null>;
  command?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  cap_drop?: string[];
  volumes?: string[];
};

/** `docker-compose config` with the sample env: what compose would run (no engine needed). */
const resolved = (): Record<string, ComposeService> => {
  const text = runOk(
    'docker-compose',
    ['--project-directory', '.', '--env-file', 'deploy/compose.env.example', '-f', 'docker-compose.yml', 'config'],
    { env: { PATH: process.env.PATH } },
  );
  // `config` prints values re-escaped for compose ($ as $$).
  return parse(text.replaceAll('$$', '$')).services;
};

/** Variables a compose service gets some other way (documented in docker-compose.yml). */
const COMPOSE_PROVIDED: Partial<Record<string, string[]>> = {
  // The TEST-ONLY keys volume: the private key as a file, the public key read into the variable by the command.
  'certificate-signer': ['CERTIFICATE_PRIVATE_KEY'],
  'revocation-service': ['CERTIFICATE_PRIVATE_KEY', 'CERTIFICATE_PUBLIC_KEY'],
  'certificate-api': [
    'CERTIFICATE_PUBLIC_KEY',
    // The travel exports stay off in compose (they answer 503 naming the variable).
    'EU_CERTIFICATE_PUBLIC_KEY',
    'EU_CERTIFICATE_PRIVATE_KEY',
    'SHC_CERTIFICATE_PRIVATE_KEY',
  ],
};

describe('docker-compose.yml', () => {
  const services = resolved();

  it('is valid for docker-compose with the sample env file, and refuses to run without the secrets', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        ...SERVICES,
        'kafka',
        'postgres',
        'redis',
        'etcd',
        'keycloak',
        'gateway',
        'keys',
        'init-config',
        'init-topics',
        'migrate',
      ]),
    );
    const empty = join(tempDir('compose'), 'empty.env');
    writeFileSync(empty, '');
    const failure = run(
      'docker-compose',
      ['--project-directory', '.', '--env-file', empty, '-f', 'docker-compose.yml', 'config', '-q'],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(failure.status).not.toBe(0);
    expect(failure.stderr).toContain('set it in .env, see deploy/compose.env.example');
  });

  it('pins every image (Kafka 4.1.1 KRaft, Postgres 16, Redis 7, etcd 3.5, Keycloak 26)', () => {
    const images = Object.fromEntries(Object.entries(services).map(([name, service]) => [name, service.image]));
    expect(images.kafka).toBe('apache/kafka:4.1.1');
    expect(images.postgres).toBe('postgres:16');
    expect(images.redis).toMatch(/^redis:7/);
    expect(images.etcd).toMatch(/^quay\.io\/coreos\/etcd:v3\.5\.\d+$/);
    expect(images.keycloak).toMatch(/^quay\.io\/keycloak\/keycloak:26\.\d+\.\d+$/);
    for (const image of Object.values(images)) expect(image).not.toMatch(/:latest$|^[^:]+$/);
    expect(services.keycloak?.command).toEqual(['start', '--import-realm']);
    expect(
      services.keycloak?.volumes?.some((volume) =>
        volume.endsWith('/keycloak/realm-export.json:/opt/keycloak/data/import/divoc-realm.json:ro'),
      ),
    ).toBe(true);
  });

  it.each(SERVICES)('%s: built from the Dockerfile, hardened, started after the init jobs', (name) => {
    const service = services[name] as ComposeService;
    expect(service.build?.args).toEqual({ SERVICE: name });
    expect(service.image).toBe(`divoc/${name}:dev`);
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.ports).toBeUndefined();
    for (const job of ['migrate', 'init-topics', 'init-config']) {
      expect(service.depends_on?.[job]).toEqual({ condition: 'service_completed_successfully' });
    }
    for (const store of ['kafka', 'postgres', 'redis', 'etcd', 'keycloak']) {
      expect(service.depends_on?.[store]).toEqual({ condition: 'service_healthy' });
    }
  });

  it.each(SERVICES)('%s: the environment provides what it reads, nothing unknown, and passes its schema', (name) => {
    const environment = Object.fromEntries(
      Object.entries(services[name]?.environment ?? {}).map(([key, value]) => [key, value ?? '']),
    );
    expect(environment.PORT).toBe(String(SERVICE_PORTS[name]));
    const other = COMPOSE_PROVIDED[name] ?? [];
    const missing = variablesOf(name).filter(
      (variable) =>
        environment[variable] === undefined && !other.includes(variable) && MAY_STAY_UNSET[variable] === undefined,
    );
    expect(missing).toEqual([]);
    // The shared block carries variables of other services too; a name no service reads is a typo.
    const read = new Set(SERVICES.flatMap(variablesOf));
    expect(Object.keys(environment).filter((variable) => !read.has(variable))).toEqual([]);
    const parsed = SERVICE_SCHEMAS[name].safeParse(environment);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('keeps every secret in the env file, each marked TEST-ONLY', () => {
    const sample = readRepoFile('deploy/compose.env.example');
    const secrets = sample
      .split('\n')
      .filter((line) => /^[A-Z_]*(PASSWORD|AUTH_KEY|SECRET)=/.test(line))
      .map((line) => line.split('=')[1] ?? '');
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const value of secrets) expect(value).toMatch(/^test-only-/);
    expect(sample).not.toMatch(/PRIVATE KEY/);
    expect(readRepoFile('docker-compose.yml')).not.toMatch(/test-only|PRIVATE KEY/);
  });

  it('publishes one port: the gateway, on the loopback interface', () => {
    const published = Object.entries(services).filter(([, service]) => service.ports !== undefined);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    expect(services.gateway?.ports).toEqual(['127.0.0.1:8080:8080/tcp']);
  });

  it('the gateway routes like the Kubernetes Ingress', () => {
    const nginx = readRepoFile('deploy/compose/nginx.conf');
    const routes = Object.fromEntries(
      [...nginx.matchAll(/location (=?)\s*(\/\S*) \{\s*set \$upstream ([a-z-]+):\d+;/g)].map((match) => [
        `${match[1] === '=' ? 'Exact' : 'Prefix'} ${match[2]}`,
        match[3],
      ]),
    );
    const ingress = renderKustomize('deploy/k8s/overlays/prod').find((object) => object.kind === 'Ingress');
    const expected = Object.fromEntries(
      ingress?.spec.rules[0].http.paths.map(
        (path: { path: string; pathType: string; backend: { service: { name: string } } }) => [
          `${path.pathType} ${path.path}`,
          path.backend.service.name,
        ],
      ),
    );
    expect(routes).toEqual(expected);
  });
});

describe('docker-compose.yml as written', () => {
  it('uses the one Dockerfile for every service and the init jobs', () => {
    const compose = parse(readRepoFile('docker-compose.yml'), { merge: true });
    for (const name of [...SERVICES, 'keys', 'init-config', 'migrate']) {
      expect(compose.services[name].build.dockerfile).toBe('Dockerfile');
    }
    expect(compose.services.migrate.command).toEqual(['node', 'services/vaccination-api/tools/migrate.mjs']);
    expect(compose.services['init-config'].command).toEqual(['node', 'services/vaccination-api/tools/load-config.mjs']);
  });
});

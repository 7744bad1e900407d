import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ETCD_KEYS } from '@divoc/contracts';
import { realInfraEnv, uniqueName, useRealInfra } from '@divoc/platform/testing';
import { DockerfileParser } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, readRepoFile, run, runOk, SERVICE_PORTS, SERVICES, type ServiceName, tempDir } from './support.js';

const dockerfile = DockerfileParser.parse(readRepoFile('Dockerfile'));
const instructions = dockerfile.getInstructions();
const stages = dockerfile.getFROMs().map((from) => from.getBuildStage());
const stageOf = (name: string) => {
  const index = stages.indexOf(name);
  const from = dockerfile.getFROMs()[index];
  const next = dockerfile.getFROMs()[index + 1];
  return instructions.filter(
    (instruction) =>
      from !== undefined &&
      instruction.getRange().start.line > from.getRange().start.line &&
      (next === undefined || instruction.getRange().start.line < next.getRange().start.line),
  );
};
const args = (instruction: { getArgumentsContent(): string | null }) => instruction.getArgumentsContent() ?? '';

/** Docker's .dockerignore matching, enough for the patterns used here (`**`, `*`, no negation). */
const ignored = (path: string): boolean =>
  readRepoFile('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .some((pattern) => {
      const regex = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*\*/g, '.*')
        .replace(/(?<!\.)\*/g, '[^/]*');
      return new RegExp(`^${regex}(/.*)?$`).test(path);
    });

describe('Dockerfile', () => {
  it('has a build stage on node:20-bookworm-slim with pnpm 12.4.2, frozen lockfile, build, prod deploy', () => {
    expect(stages).toEqual(['build', 'runtime']);
    const nodeImage = instructions.find(
      (instruction) => instruction.getKeyword() === 'ARG' && args(instruction).startsWith('NODE_IMAGE'),
    );
    expect(nodeImage && args(nodeImage)).toBe('NODE_IMAGE=node:20-bookworm-slim');
    for (const from of dockerfile.getFROMs()) expect(from.getImage()).toBe(`\${NODE_IMAGE}`);
    const packageManager = JSON.parse(readRepoFile('package.json')).packageManager as string;
    const build = stageOf('build').map((instruction) => `${instruction.getKeyword()} ${args(instruction)}`);
    expect(build).toContain(`ARG PNPM_VERSION=${packageManager.replace('pnpm@', '')}`);
    expect(build).toContain(`RUN npm install --global "pnpm@\${PNPM_VERSION}" && pnpm --version`);
    expect(build).toContain('RUN pnpm install --frozen-lockfile --offline');
    expect(build).toContain('RUN pnpm build');
    expect(build).toContain(`RUN deploy/docker/assemble.sh "\${SERVICE}" /out`);
    expect(readRepoFile('deploy/docker/assemble.sh')).toContain('deploy --prod --offline');
  });

  it('has a runtime stage with only the assembled tree, non-root, a node HEALTHCHECK and the service CMD', () => {
    const runtime = stageOf('runtime');
    const keyword = (name: string) => runtime.filter((instruction) => instruction.getKeyword() === name).map(args);
    expect(keyword('ARG')).toEqual(['SERVICE']);
    expect(
      runtime.filter((instruction) => instruction.getKeyword() === 'COPY').map((copy) => copy.getTextContent()),
    ).toEqual(['COPY --from=build --chown=0:0 /out/ /app/']);
    expect(keyword('RUN')).toEqual([]); // nothing installed or built at run time
    expect(keyword('USER')).toEqual(['1000:1000']);
    expect(keyword('HEALTHCHECK')[0]).toMatch(/CMD \["node", "\/app\/healthcheck\.mjs"\]$/);
    expect(keyword('CMD')).toEqual([`["/bin/sh", "-c", "exec node services/\${SERVICE}/dist/main.js"]`]);
    const env = keyword('ENV').join(' ');
    expect(env).toContain('DIVOC_CONFIG_DEFAULTS=/app/etcd-config');
    expect(env).toContain(`SERVICE=\${SERVICE}`);
    expect(instructions.filter((instruction) => instruction.getKeyword() === 'ADD')).toEqual([]);
  });

  it('sends the sources to the build, and nothing built, installed or secret', () => {
    for (const path of [
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'package.json',
      'deploy/package.json',
      'deploy/docker/assemble.sh',
      'deploy/docker/tools/migrate.mjs',
      'etcd-config/ICD.json',
      'services/certificate-api/src/main.ts',
      'packages/documents/fonts',
      'packages/credentials/contexts',
      'packages/store/migrations/0001_certificates_requests_outbox.sql',
    ]) {
      expect(ignored(path), path).toBe(false);
      expect(existsSync(join(REPO_ROOT, path)), path).toBe(true);
    }
    for (const path of [
      'node_modules',
      'packages/store/node_modules/x',
      'services/certificate-api/dist/main.js',
      '.git',
      '.env',
      '.divoc-data/keys',
      'deploy/compose.env',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

const waitFor = async (check: () => boolean, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return check();
};

/** The tree deploy/docker/assemble.sh makes for the image of each service (the Dockerfile's /out). */
describe('the assembled image tree (deploy/docker/assemble.sh, as in the Dockerfile)', () => {
  const root = tempDir('image');
  const trees = new Map<ServiceName, string>();
  beforeAll(() => {
    for (const service of SERVICES) {
      const out = join(root, service);
      runOk(join(REPO_ROOT, 'deploy/docker/assemble.sh'), [service, out]);
      trees.set(service, out);
    }
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const tree = (service: ServiceName): string => trees.get(service) as string;
  const packageDir = (service: ServiceName, name: string): string => {
    const store = join(tree(service), 'services', service, 'node_modules/.pnpm');
    const entry = readdirSync(store).find((dir) => dir.startsWith(`@divoc+${name}@`));
    if (!entry) throw new Error(`@divoc/${name} is not in the image of ${service}`);
    return join(store, entry, 'node_modules/@divoc', name);
  };

  it("healthcheck.mjs falls back to each service's default port, as its settings schema declares it", () => {
    // The healthcheck runs every few seconds, so it keeps its own small table instead of loading the schemas.
    const table = /const DEFAULT_PORTS = (\{[^}]*\});/.exec(readRepoFile('deploy/docker/healthcheck.mjs'))?.[1] ?? '';
    const ports = Object.fromEntries(
      [...table.matchAll(/'([a-z-]+)': (\d+)/g)].map(([, name, port]) => [name, Number(port)]),
    );
    expect(ports).toEqual(SERVICE_PORTS);
  });

  it.each(SERVICES)('%s: dist, tools, defaults and healthcheck; no sources, tests or dev dependencies', (service) => {
    const app = join(tree(service), 'services', service);
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
    for (const tool of ['migrate.mjs', 'load-config.mjs', 'dev-keys.mjs'])
      expect(existsSync(join(app, 'tools', tool))).toBe(true);
    expect(existsSync(join(tree(service), 'healthcheck.mjs'))).toBe(true);
    expect(readdirSync(join(tree(service), 'etcd-config')).sort()).toEqual(
      Object.keys(ETCD_KEYS)
        .map((key) => `${key}.json`)
        .sort(),
    );
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'test'))).toBe(false);
    expect(existsSync(join(packageDir(service, 'platform'), 'src'))).toBe(false);
    expect(existsSync(join(packageDir(service, 'store'), 'migrations/0001_certificates_requests_outbox.sql'))).toBe(
      true,
    );
    const installed = readdirSync(join(app, 'node_modules/.pnpm')).join(' ');
    for (const devOnly of ['vitest@', 'typescript@', '@biomejs', 'fast-check@', 'kubernetes-models@', 'smtp-server@']) {
      expect(installed).not.toContain(devOnly);
    }
  });

  it('ships the fonts and the JSON-LD contexts with certificate-api', () => {
    expect(readdirSync(join(packageDir('certificate-api', 'documents'), 'fonts')).length).toBeGreaterThan(0);
    expect(readdirSync(join(packageDir('certificate-api', 'credentials'), 'contexts')).length).toBeGreaterThan(0);
  });

  it('refuses an unknown service and an unbuilt or non-empty target', () => {
    const unknown = run(join(REPO_ROOT, 'deploy/docker/assemble.sh'), ['nope', join(root, 'x')]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no service "nope" (one of: certificate-api');
    const taken = run(join(REPO_ROOT, 'deploy/docker/assemble.sh'), ['certificate-api', tree('certificate-api')]);
    expect(taken.stderr).toContain('exists and is not empty');
  });

  describe('certificate-api started from the tree (embedded mode, as the container runs it)', () => {
    let service: ChildProcess | undefined;
    let port = 0;
    const data = tempDir('image-data');
    const env = () => ({
      PATH: process.env.PATH,
      SERVICE: 'certificate-api',
      NODE_ENV: 'production',
      DIVOC_DATA_DIR: data,
      DIVOC_CONFIG_DEFAULTS: join(tree('certificate-api'), 'etcd-config'),
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    const healthcheck = () =>
      run('node', [join(tree('certificate-api'), 'healthcheck.mjs')], { env: env(), cwd: tree('certificate-api') });

    beforeAll(async () => {
      port = await freePort();
      runOk('node', ['services/certificate-api/tools/dev-keys.mjs', join(data, 'keys')], {
        env: { ...env(), SIGNING_KEY_TYPE: 'ED25519' },
        cwd: tree('certificate-api'),
      });
      service = spawn('/bin/sh', ['-c', `exec node services/\${SERVICE}/dist/main.js`], {
        env: env(),
        cwd: tree('certificate-api'),
        stdio: 'ignore',
      });
      await waitFor(() => healthcheck().status === 0, 45_000);
    }, 60_000);
    afterAll(() => {
      service?.kill('SIGTERM');
    });

    it('answers the HEALTHCHECK while running, and not once stopped', async () => {
      expect(healthcheck()).toMatchObject({ status: 0 });
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      const did = await fetch(`http://127.0.0.1:${port}/.well-known/did.json`);
      expect(did.status).toBe(200);
      service?.kill('SIGTERM');
      expect(await waitFor(() => service?.exitCode !== null, 15_000)).toBe(true);
      expect(service?.exitCode).toBe(0); // graceful shutdown on SIGTERM, as node is PID 1 (exec)
      const stopped = healthcheck();
      expect(stopped.status).toBe(1);
      expect(stopped.stderr).toContain(`healthcheck: /health/live on port ${port} did not answer`);
    });
  });

  describe('the tools', () => {
    const app = () => tree('vaccination-api');
    const tool = (name: string, extraArgs: string[], env: Record<string, string>) =>
      run('node', [`services/vaccination-api/tools/${name}`, ...extraArgs], {
        cwd: app(),
        env: { PATH: process.env.PATH, DIVOC_CONFIG_DEFAULTS: join(app(), 'etcd-config'), LOG_LEVEL: 'info', ...env },
      });

    it('migrate.mjs applies the migrations once, then finds the schema current', () => {
      const env: Record<string, string> = useRealInfra()
        ? { DATABASE_URL: realInfraEnv().DATABASE_URL }
        : { DIVOC_DATA_DIR: tempDir('migrate') };
      const first = tool('migrate.mjs', [], env);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const second = tool('migrate.mjs', [], env);
      expect(second.status).toBe(0);
      expect(second.stdout).toContain('schema is current');
    });

    it('load-config.mjs --check validates the shipped defaults', () => {
      const result = tool('load-config.mjs', ['--check'], {});
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('configuration files are valid');
    });

    it('load-config.mjs rejects an invalid value, a broken cross-key rule and an unknown file, naming them', () => {
      const broken = (edit: (dir: string) => void) => {
        const dir = join(tempDir('etcd-config'), 'etcd-config');
        cpSync(join(app(), 'etcd-config'), dir, { recursive: true });
        edit(dir);
        return tool('load-config.mjs', ['--check'], { DIVOC_CONFIG_DEFAULTS: dir });
      };
      const invalid = broken((dir) => writeFileSync(join(dir, 'ICD.json'), '{"not a code": {}}'));
      expect(invalid.status).toBe(1);
      expect(invalid.stderr).toContain('key "ICD" is invalid');
      const crossKey = broken((dir) => {
        const vaccines = JSON.parse(readFileSync(join(dir, 'VACCINE_ICD.json'), 'utf8'));
        vaccines[0].icd11Code = 'XX9999';
        writeFileSync(join(dir, 'VACCINE_ICD.json'), JSON.stringify(vaccines));
      });
      expect(crossKey.status).toBe(1);
      expect(crossKey.stderr).toContain('points at XX9999, which ICD does not define');
      const unknown = broken((dir) => writeFileSync(join(dir, 'W3C_TEMPLATE.json'), '{}'));
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain('W3C_TEMPLATE.json');
      expect(unknown.stderr).toContain('not a key the services read');
      const noEtcd = tool('load-config.mjs', [], {});
      expect(noEtcd.status).toBe(1);
      expect(noEtcd.stderr).toContain('ETCD_HOSTS is required');
    });

    it.runIf(useRealInfra())(
      'load-config.mjs writes missing keys, keeps changed ones, --overwrite replaces them (real etcd)',
      () => {
        const env = { ETCD_HOSTS: realInfraEnv().ETCD_HOSTS, ETCD_PREFIX: `${uniqueName('deploy')}/` };
        const keys = Object.keys(ETCD_KEYS);
        const first = tool('load-config.mjs', [], env);
        expect(first.status).toBe(0);
        expect(first.stdout).toContain(`wrote ${keys.length} key(s), kept 0`);
        const second = tool('load-config.mjs', [], env);
        expect(second.stdout).toContain(`wrote 0 key(s), kept ${keys.length}`);
        const third = tool('load-config.mjs', ['--overwrite'], env);
        expect(third.stdout).toContain(`wrote ${keys.length} key(s), kept 0`);
      },
    );
  });
});

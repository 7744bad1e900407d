import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEPLOY_DIR,
  type K8sObject,
  parseManifests,
  pathWithout,
  REPO_ROOT,
  type RunResult,
  run,
  runOk,
  SERVICES,
  tempDir,
} from './support.js';

const INSTALL = join(DEPLOY_DIR, 'install.sh');
const BUILD = join(DEPLOY_DIR, 'build.sh');
const DEPLOY = join(DEPLOY_DIR, 'deploy.sh');
const INVENTORY = 'deploy/ansible/inventory/sample/hosts.yml';
const REGISTRY = 'registry.example.org/divoc';

const script = (path: string, args: string[], env: Record<string, string | undefined> = {}): RunResult =>
  run(path, args, { env: { ...process.env, ANSIBLE_NOCOLOR: '1', ...env } });

const sshKey = (): string => {
  const key = join(tempDir('ssh'), 'id_ed25519');
  writeFileSync(key, 'not a real key: the dry run never uses it\n', { mode: 0o600 });
  return key;
};

const deployArgs = (overrides: Record<string, string | null> = {}): string[] => {
  const flags: Record<string, string | null> = {
    '-i': INVENTORY,
    '-p': 'deploy/k8s/overlays/prod',
    '-d': REGISTRY,
    '-k': '10.0.0.11',
    '-s': sshKey(),
    ...overrides,
  };
  return Object.entries(flags).flatMap(([flag, value]) => (value === null ? [] : [flag, value]));
};

/** A stand-in program that records its arguments, first on a PATH. */
const recordingTool = (name: string): { path: string; log: string } => {
  const dir = tempDir(`tool-${name}`);
  const log = join(dir, 'calls.log');
  writeFileSync(join(dir, name), `#!/bin/sh\necho "$@" >> ${JSON.stringify(log)}\n`);
  chmodSync(join(dir, name), 0o755);
  return { path: `${dir}:${process.env.PATH}`, log };
};

describe.each([
  ['install.sh', INSTALL, ['-i <inventory>', '-n']],
  ['build.sh', BUILD, ['-d <registry>', '-r <git repo>', '-t <tag>', '-n']],
  ['deploy.sh', DEPLOY, ['-i <inventory>', '-p <k8s dir>', '-d <registry>', '-k <master ip>', '-s <ssh key>', '-n']],
])('%s', (name, path, flags) => {
  it('-h prints the usage with every flag and exits 0', () => {
    const result = script(path, ['-h']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: ${name.replace('.', '\\.')} `));
    for (const flag of flags) expect(result.stdout).toContain(flag);
  });

  it('an unknown option is a usage error', () => {
    const result = script(path, ['-Z']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${name}: unknown option -Z`);
    expect(result.stderr).toContain(`Run ${name} -h for help.`);
  });
});

describe('install.sh', () => {
  it('needs -i', () => {
    const result = script(INSTALL, []);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('install.sh: missing -i <inventory>');
  });

  it('names a missing inventory and a missing ansible-playbook', () => {
    expect(script(INSTALL, ['-i', '/nonexistent/hosts.yml']).stderr).toContain(
      'inventory /nonexistent/hosts.yml not found',
    );
    const result = script(INSTALL, ['-i', INVENTORY], { PATH: pathWithout('ansible-playbook') });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('install.sh: ansible-playbook not found in PATH: install Ansible');
  });

  it('runs site.yml on the inventory, in check mode for a dry run', () => {
    const ansible = recordingTool('ansible-playbook');
    const result = script(INSTALL, ['-i', INVENTORY, '-n', '-l', 'etcd', '--', '--tags', 'backup'], {
      PATH: ansible.path,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('dry run: ansible-playbook in check mode, nothing is changed');
    expect(readFileSync(ansible.log, 'utf8').trim()).toBe(
      `-i ${INVENTORY} ${DEPLOY_DIR}/ansible/site.yml --limit etcd --check --diff --tags backup`,
    );
  });
});

describe('build.sh', () => {
  it('needs -d and refuses "latest" and unknown services', () => {
    const missing = script(BUILD, ['-n']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('build.sh: missing -d <registry>');
    expect(script(BUILD, ['-n', '-d', REGISTRY, '-t', 'latest']).stderr).toContain('the tag "latest" is refused');
    expect(script(BUILD, ['-n', '-d', REGISTRY, '-s', 'nope']).stderr).toContain('unknown service "nope"');
    expect(script(BUILD, ['-n', '-d', 'Not A Registry']).stderr).toContain('invalid registry');
  });

  it('names a missing docker (a real build needs it)', () => {
    const result = script(BUILD, ['-d', REGISTRY, '-t', '1.2.3'], { PATH: pathWithout('docker') });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('build.sh: docker not found in PATH: install Docker');
  });

  it('a dry run prints one docker build and push per service, and runs nothing', () => {
    const docker = recordingTool('docker');
    const result = script(BUILD, ['-n', '-d', REGISTRY, '-t', '1.2.3'], { PATH: docker.path });
    expect(result.status).toBe(0);
    const revision = runOk('git', ['rev-parse', 'HEAD']).trim();
    for (const service of SERVICES) {
      expect(result.stdout).toContain(
        `would run: docker build --pull --file ${REPO_ROOT}/Dockerfile --build-arg SERVICE=${service} ` +
          `--label org.opencontainers.image.revision=${revision} --tag ${REGISTRY}/${service}:1.2.3 ${REPO_ROOT}\n`,
      );
      expect(result.stdout).toContain(`would run: docker push ${REGISTRY}/${service}:1.2.3\n`);
    }
    expect(result.stdout.match(/would run: docker build/g)).toHaveLength(SERVICES.length);
    expect(() => readFileSync(docker.log)).toThrow(); // docker was never called
  });

  it('tags with the commit by default, builds selected services, clones another repository', () => {
    const commit = runOk('git', ['rev-parse', '--short=12', 'HEAD']).trim();
    const result = script(BUILD, ['-n', '-d', REGISTRY, '-s', 'certificate-api']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`--tag ${REGISTRY}/certificate-api:${commit}(-dirty)? `));
    expect(result.stdout.match(/would run: docker build/g)).toHaveLength(1);

    const cloned = script(BUILD, [
      '-n',
      '-d',
      REGISTRY,
      '-r',
      'https://git.example.org/divoc.git',
      '-b',
      'v1.0',
      '-t',
      'v1.0',
    ]);
    expect(cloned.status).toBe(0);
    expect(cloned.stdout).toMatch(
      /would run: git clone --quiet --branch v1\.0 -- https:\/\/git\.example\.org\/divoc\.git \/\S+\n/,
    );
    expect(cloned.stdout).toContain(`--tag ${REGISTRY}/vaccination-api:v1.0`);
  });
});

describe('deploy.sh', () => {
  it.each(['-i', '-p', '-d', '-k', '-s'])('needs %s', (flag) => {
    const result = script(DEPLOY, ['-n', ...deployArgs({ [flag]: null })]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`deploy\\.sh: missing ${flag} <[a-z0-9 ]+>`));
  });

  it.each(['kubectl', 'ansible-inventory'])('names a missing %s', (tool) => {
    const result = script(DEPLOY, ['-n', ...deployArgs()], { PATH: pathWithout(tool) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`deploy.sh: ${tool} not found in PATH: install`);
  });

  it('refuses a Secrets file that still holds placeholders, and a directory without kustomization', () => {
    const template = script(DEPLOY, ['-n', ...deployArgs(), '-e', 'deploy/k8s/secrets/divoc-secrets.template.yaml']);
    expect(template.status).toBe(1);
    expect(template.stderr).toContain('still contains REPLACE_ME placeholders');
    const noKustomization = script(DEPLOY, ['-n', ...deployArgs({ '-p': 'deploy/k8s' })]);
    expect(noKustomization.status).toBe(2);
    expect(noKustomization.stderr).toContain('deploy/k8s has no kustomization.yaml');
  });

  it('a dry run renders the overlay with the images, the inventory addresses, and prints what it would do', () => {
    const out = join(tempDir('rendered'), 'rendered.yaml');
    const ssh = recordingTool('ssh');
    const result = script(DEPLOY, ['-n', ...deployArgs({ '-t': '1.2.3', '-o': out })], { PATH: ssh.path });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('dry run: nothing is contacted or changed');
    expect(result.stdout).toMatch(
      /would run: ssh -i \S+ -o BatchMode=yes -o StrictHostKeyChecking=accept-new root@10\.0\.0\.11 'sudo cat \/etc\/kubernetes\/admin\.conf'/,
    );
    expect(result.stdout).toMatch(
      /would run: kubectl --kubeconfig \S+ delete job --namespace divoc --selector app\.kubernetes\.io\/component=setup --ignore-not-found/,
    );
    expect(result.stdout).toContain(`would run: kubectl --kubeconfig `);
    expect(result.stdout).toContain(` apply -f ${out}\n`);
    for (const service of SERVICES) {
      expect(result.stdout).toContain(`  Deployment/${service}\n`);
      expect(result.stdout).toContain(`  ${REGISTRY}/${service}:1.2.3\n`);
    }
    expect(() => readFileSync(ssh.log)).toThrow(); // nothing was contacted

    const objects: K8sObject[] = parseManifests(readFileSync(out, 'utf8'));
    const config = objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('divoc-config-'),
    );
    expect(config?.data.KAFKA_BROKERS).toBe('10.0.1.11:9092,10.0.1.12:9092,10.0.1.13:9092');
    expect(config?.data.ETCD_HOSTS).toBe('http://10.0.2.21:2379,http://10.0.2.22:2379,http://10.0.2.23:2379');
    const egress = objects.find((object) => object.metadata.name === 'allow-egress-infrastructure')?.spec.egress;
    expect(egress[0].to).toEqual(
      ['10.0.1.11', '10.0.1.12', '10.0.1.13'].map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })),
    );
    expect(egress[3].to).toHaveLength(3); // etcd
    expect(
      objects.find((object) => object.kind === 'Service' && object.metadata.name === 'keycloak')?.spec.externalName,
    ).toBe('keycloak.divoc.internal');
    for (const object of objects.filter((o) => o.kind === 'Deployment')) {
      expect(object.spec.template.spec.containers[0].image).toBe(`${REGISTRY}/${object.metadata.name}:1.2.3`);
    }
  });
});

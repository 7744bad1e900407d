import { chmodSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY_DIR, REPO_ROOT, readRepoFile, renderKustomize, run, runOk, tempDir } from './support.js';

type Inventory = { all: { children: Record<string, { hosts?: Record<string, Record<string, unknown>> }> } };
const inventory = parse(readRepoFile('deploy/ansible/inventory/sample/hosts.yml')) as Inventory;
const hostsOf = (group: string) => Object.entries(inventory.all.children[group]?.hosts ?? {});

const inCidr = (ip: string, cidr: string): boolean => {
  const [base, bits] = cidr.split('/');
  const toNumber = (address: string) => address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base ?? '') & mask) >>> 0;
};

describe('the sample inventory', () => {
  it('has the groups of the brief, 3 etcd members, 3 Kafka nodes with distinct ids', () => {
    for (const group of ['kafka', 'postgres', 'redis', 'etcd', 'keycloak', 'k8s_control_plane', 'k8s_workers']) {
      expect(hostsOf(group).length, group).toBeGreaterThan(0);
    }
    expect(hostsOf('etcd')).toHaveLength(3);
    const ids = hostsOf('kafka').map(([, vars]) => vars.kafka_node_id);
    expect(new Set(ids).size).toBe(hostsOf('kafka').length);
  });

  it('fits the egress rules of the prod overlay (port by port)', () => {
    const egress = renderKustomize('deploy/k8s/overlays/prod').find(
      (object) => object.metadata.name === 'allow-egress-infrastructure',
    )?.spec.egress;
    const groups = ['kafka', 'postgres', 'redis', 'etcd', 'keycloak'];
    groups.forEach((group, index) => {
      for (const [host, vars] of hostsOf(group)) {
        expect(
          inCidr(String(vars.ansible_host), egress[index].to[0].ipBlock.cidr),
          `${host} in the ${group} rule`,
        ).toBe(true);
      }
    });
  });
});

describe('the keycloak role', () => {
  it('imports the realm without its TEST-ONLY users and client, with the vault secret and real URLs', () => {
    const dir = tempDir('realm');
    const out = join(dir, 'realm.json');
    const playbook = join(dir, 'render.yml');
    // The role's own defaults, with the vault's values and the paths given as extra vars (they win over vars_files).
    writeFileSync(
      playbook,
      `- hosts: all
  gather_facts: false
  vars_files:
    - ${join(DEPLOY_DIR, 'ansible/roles/keycloak/defaults/main.yml')}
  tasks:
    - name: Render
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.template', '${join(DEPLOY_DIR, 'ansible/roles/keycloak/templates/divoc-realm.json.j2')}') }}"
        dest: ${out}
        mode: "0600"
`,
    );
    const extraVars = {
      keycloak_realm_file: join(REPO_ROOT, 'keycloak/realm-export.json'),
      keycloak_admin_api_secret: 'secret-from-the-vault',
      divoc_public_url: 'https://portal.example.org',
    };
    runOk('ansible-playbook', ['-i', 'localhost,', '-c', 'local', '-e', JSON.stringify(extraVars), playbook], {
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });
    const realm = JSON.parse(readFileSync(out, 'utf8'));
    const original = JSON.parse(readRepoFile('keycloak/realm-export.json'));

    const usernames = (users: { username: string }[]) => users.map((user) => user.username);
    expect(usernames(original.users).some((name) => name.startsWith('test-'))).toBe(true);
    expect(usernames(realm.users)).toEqual(usernames(original.users).filter((name) => !name.startsWith('test-')));
    expect(usernames(realm.users)).toContain('service-account-admin-api');
    const clients = Object.fromEntries(realm.clients.map((client: { clientId: string }) => [client.clientId, client]));
    expect(Object.keys(clients).sort()).toEqual(
      original.clients
        .map((client: { clientId: string }) => client.clientId)
        .filter((id: string) => id !== 'other-app')
        .sort(),
    );
    expect(clients['admin-api'].secret).toBe('secret-from-the-vault');
    expect(clients['citizen-portal'].directAccessGrantsEnabled).toBe(false);
    expect(clients['facility-portal'].redirectUris).toEqual(['https://portal.example.org/facility/callback']);
    expect(Object.keys(realm.roles.client)).toEqual(['divoc']);
    expect(JSON.stringify(realm)).not.toMatch(/localhost|Test-Only-/);
    for (const client of realm.clients) {
      if (client.clientId !== 'admin-api') expect(client.secret, client.clientId).toBeUndefined();
    }
    // Everything else is kept as it is.
    expect(realm.roles.client.divoc).toEqual(original.roles.client.divoc);
    expect(realm.clientScopes).toEqual(original.clientScopes);
    expect(realm.accessTokenLifespan).toBe(original.accessTokenLifespan);
  });
});

describe('divoc-backup (roles/backup)', () => {
  const SCRIPT = join(DEPLOY_DIR, 'ansible/roles/backup/files/divoc-backup.sh');

  /** Stand-ins for pg_dump, runuser, redis-cli and etcdctl, and a settings file pointing at a temp dir. */
  const setup = () => {
    const dir = tempDir('backup');
    const bin = join(dir, 'bin');
    runOk('mkdir', ['-p', bin, join(dir, 'redis')]);
    const tool = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    tool('runuser', 'shift 3; exec "$@"'); // runuser -u postgres -- <command>
    tool('pg_dump', `echo "dump of \${@: -1}"`);
    tool('pg_dumpall', 'echo "roles"');
    tool(
      'redis-cli',
      `state=${dir}/lastsave; case "$1" in LASTSAVE) cat "$state" 2>/dev/null || echo 100 ;; BGSAVE) echo $(( $(cat "$state" 2>/dev/null || echo 100) + 1 )) > "$state"; echo started ;; esac`,
    );
    tool('etcdctl', 'for a; do last=$a; done; echo snapshot > "$last"');
    writeFileSync(join(dir, 'redis/dump.rdb'), 'REDIS0011');
    const settings = join(dir, 'backup.env');
    writeFileSync(
      settings,
      `BACKUP_DIR=${dir}/backups\nBACKUP_RETENTION_DAYS=14\nPOSTGRES_DATABASES="divoc keycloak"\nREDIS_DATA_DIR=${dir}/redis\n`,
    );
    const backup = (kind: string) =>
      run(SCRIPT, [kind], { env: { PATH: `${bin}:${process.env.PATH}`, DIVOC_BACKUP_SETTINGS: settings } });
    return { dir, backup };
  };

  it('writes each kind with a checksum, and keeps two weeks', () => {
    const { dir, backup } = setup();
    for (const kind of ['postgres', 'redis', 'etcd']) {
      const result = backup(kind);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
    const files = (kind: string) => readdirSync(join(dir, 'backups', kind)).sort();
    expect(
      files('postgres')
        .filter((name) => name.endsWith('.dump'))
        .map((name) => name.split('-')[0]),
    ).toEqual(['divoc', 'keycloak']);
    expect(files('redis').some((name) => /^redis-\d{8}T\d{6}Z\.rdb$/.test(name))).toBe(true);
    expect(files('etcd').some((name) => /^etcd-\d{8}T\d{6}Z\.db\.gz$/.test(name))).toBe(true);
    for (const kind of ['postgres', 'redis', 'etcd']) {
      for (const name of files(kind).filter((file) => !file.endsWith('.sha256'))) {
        expect(files(kind)).toContain(`${name}.sha256`);
        expect(runOk('sha256sum', ['-c', `${name}.sha256`], { cwd: join(dir, 'backups', kind) })).toContain(': OK');
      }
    }

    const old = join(dir, 'backups/redis/redis-20000101T000000Z.rdb');
    const recent = join(dir, 'backups/redis/redis-20000102T000000Z.rdb');
    writeFileSync(old, 'x');
    writeFileSync(recent, 'x');
    const day = 24 * 60 * 60;
    const now = Date.now() / 1000;
    utimesSync(old, now - 15 * day, now - 15 * day);
    utimesSync(recent, now - 12 * day, now - 12 * day);
    expect(backup('redis').status).toBe(0);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });

  it('refuses an unknown kind', () => {
    const { backup } = setup();
    const result = backup('mysql');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown kind "mysql"');
  });
});

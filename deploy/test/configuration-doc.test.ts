import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ETCD_KEYS } from '@divoc/contracts';
import { describe, expect, it } from 'vitest';
import {
  MAY_STAY_UNSET,
  REPO_ROOT,
  readRepoFile,
  renderKustomize,
  SERVICE_SCHEMAS,
  SERVICES,
  type ServiceName,
  secretTemplates,
} from './support.js';

const doc = readRepoFile('docs/configuration.md');

/** The rows of the markdown table whose first column is `NAME` (cells split on unescaped pipes). */
const tableRows = (): Map<string, string[]> => {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const match = /^\| `([A-Za-z_][A-Za-z0-9_]*)` \|/.exec(line);
    if (!match?.[1]) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replaceAll('\\|', '|'));
    rows.set(match[1], cells);
  }
  return rows;
};

const readers = (): Map<string, ServiceName[]> => {
  const byVariable = new Map<string, ServiceName[]>();
  for (const service of SERVICES) {
    for (const variable of Object.keys(SERVICE_SCHEMAS[service].shape)) {
      byVariable.set(variable, [...(byVariable.get(variable) ?? []), service]);
    }
  }
  return byVariable;
};

/** What the schema uses when the variable is unset, as the doc writes it. */
const defaultOf = (service: ServiceName, variable: string): string => {
  const schema = (
    SERVICE_SCHEMAS[service].shape as Record<
      string,
      { safeParse(value: unknown): { success: boolean; data?: unknown } }
    >
  )[variable];
  const result = schema?.safeParse(undefined);
  if (!result?.success || result.data === undefined) return '—';
  const value = Array.isArray(result.data) ? result.data.join(',') : String(result.data);
  return value === '' ? '(empty)' : `\`${value}\``;
};

describe('docs/configuration.md', () => {
  const rows = tableRows();

  it('lists every environment variable of every service, with the services that read it', () => {
    const missing = [...readers().keys()].filter((variable) => !rows.has(variable));
    expect(missing).toEqual([]);
    for (const [variable, services] of readers()) {
      const listed = rows.get(variable)?.[1] ?? '';
      expect(listed === 'all' ? [...SERVICES] : listed.split(', '), variable).toEqual(services);
    }
  });

  it('gives the default each schema uses', () => {
    for (const [variable, services] of readers()) {
      const defaults = services.map((service) => defaultOf(service, variable));
      const distinct = [...new Set(defaults)];
      const expected =
        distinct.length === 1
          ? distinct[0]
          : `\`${services.map((service, index) => `${(defaults[index] ?? '').replaceAll('`', '')} (${service})`).join(', ')}\``;
      expect(rows.get(variable)?.[2], variable).toBe(expected);
    }
  });

  it('says where Kubernetes provides each variable, and why the others may stay unset', () => {
    const objects = renderKustomize('deploy/k8s/overlays/prod');
    const config = objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('divoc-config-'),
    );
    const secrets = secretTemplates();
    for (const variable of readers().keys()) {
      const source = rows.get(variable)?.[3] ?? '';
      const secret = [...secrets].find(([, data]) => variable in data)?.[0];
      if (variable === 'PORT') expect(source).toBe('container `env`');
      else if (variable in (config?.data ?? {})) expect(source, variable).toBe('`divoc-config`');
      else if (secret) expect(source, variable).toBe(`Secret \`${secret}\``);
      else {
        expect(MAY_STAY_UNSET[variable], `${variable} is provided nowhere`).toBeDefined();
        expect(source, variable).toMatch(/^unset: /);
      }
    }
  });

  it('lists every etcd key and every default file', () => {
    const keys = Object.keys(ETCD_KEYS);
    for (const key of keys) expect(rows.has(key), key).toBe(true);
    const files = readdirSync(join(REPO_ROOT, 'etcd-config')).filter((name) => name.endsWith('.json'));
    expect(files.map((name) => name.replace(/\.json$/, '')).sort()).toEqual([...keys].sort());
  });

  it('is linked from the operator guide', () => {
    expect(readRepoFile('docs/operations.md')).toContain('configuration.md');
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TOPIC_PARTITIONS, type Topic } from '@divoc/contracts';
import { describe, expect, it } from 'vitest';
import { kubernetesProblems } from './kubernetes-schema.js';
import {
  DEPLOY_DIR,
  type K8sObject,
  MAY_STAY_UNSET,
  parseManifests,
  readRepoFile,
  renderKustomize,
  SECRET_VARIABLES,
  SERVICE_PORTS,
  SERVICE_SCHEMAS,
  SERVICES,
  type ServiceName,
  secretTemplates,
  variablesOf,
} from './support.js';

const OVERLAYS = ['deploy/k8s/overlays/dev', 'deploy/k8s/overlays/prod'];

/** The topics each service consumes (DESIGN §2): more pods than partitions would sit idle. */
const CONSUMES: Partial<Record<ServiceName, Topic[]>> = {
  'certificate-signer': ['certify'],
  'certificate-processor': ['certify_ack', 'certified'],
  'certificate-api': ['certified', 'revoked'],
  'revocation-service': ['revoke_cert', 'certified'],
  'notification-service': ['certified', 'revoked', 'notify'],
};

/** Who may see which Secret (DESIGN §9: a pod gets only what it needs). */
const SECRET_USERS: Record<string, readonly ServiceName[]> = {
  'divoc-secrets': SERVICES,
  'divoc-signing-key': ['certificate-signer', 'revocation-service'],
  'divoc-notification-secrets': ['notification-service'],
  'divoc-export-keys': ['certificate-api'],
  'divoc-recipient-provisioning': ['certificate-processor'],
};

const HTTP_SERVICES: ServiceName[] = [
  'vaccination-api',
  'certificate-api',
  'revocation-service',
  'notification-service',
];

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
};

const configMap = (objects: K8sObject[], name: string): K8sObject => {
  const maps = objects.filter((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith(`${name}-`));
  expect(maps).toHaveLength(1);
  return maps[0] as K8sObject;
};

const memoryMiB = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

const podSpecs = (objects: K8sObject[]) =>
  objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'Job')
    .map((object) => ({ object, spec: object.spec.template.spec, labels: object.spec.template.metadata.labels }));

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  const objects = renderKustomize(overlay);
  const deployments = objects.filter((object) => object.kind === 'Deployment');
  const secrets = secretTemplates();

  it('renders every object valid against the Kubernetes schemas (kubernetes-models), without unknown fields', async () => {
    expect(objects.length).toBeGreaterThan(30);
    const problems = (await Promise.all(objects.map(kubernetesProblems))).flat();
    expect(problems).toEqual([]);
  });

  it('keeps every namespaced object in the namespace divoc, which enforces the restricted pod security profile', () => {
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) expect(object.metadata.namespace).toBe('divoc');
    const namespace = find(objects, 'Namespace', 'divoc');
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('holds no Secret (an apply must never overwrite real keys) and no secret in a ConfigMap', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
    const config = configMap(objects, 'divoc-config');
    for (const key of Object.keys(config.data)) expect(SECRET_VARIABLES).not.toContain(key);
    for (const value of Object.values(config.data) as string[]) {
      expect(value).not.toMatch(/PRIVATE KEY|:\/\/[^/\s:@]*:[^/\s@]+@/);
    }
  });

  it('runs one Deployment per service', () => {
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual([...SERVICES].sort());
  });

  it.each(SERVICES)('%s: probes, resources, non-root, read-only root, tagged image, scrape annotations', (service) => {
    const deployment = find(objects, 'Deployment', service);
    const pod = deployment.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0];
    const port = SERVICE_PORTS[service];

    expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    for (const resource of ['cpu', 'memory']) {
      expect(container.resources.requests[resource]).toBeDefined();
      expect(container.resources.limits[resource]).toBeDefined();
    }
    const heap = /--max-old-space-size=(\d+)/.exec(
      container.env.find((variable: { name: string }) => variable.name === 'NODE_OPTIONS')?.value ?? '',
    );
    expect(Number(heap?.[1])).toBeLessThan(memoryMiB(container.resources.limits.memory));

    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const tmp = container.volumeMounts.find((mount: { mountPath: string }) => mount.mountPath === '/tmp');
    expect(pod.volumes.find((volume: { name: string }) => volume.name === tmp?.name)?.emptyDir).toBeDefined();

    const image: string = container.image;
    expect(image).toMatch(new RegExp(`/${service}:[\\w][\\w.-]*$`));
    expect(image).not.toMatch(/:latest$/);

    expect(deployment.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': '/metrics',
    });
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it.each(SERVICES)('%s: every variable it reads comes from the ConfigMap, a Secret or its container', (service) => {
    const container = find(objects, 'Deployment', service).spec.template.spec.containers[0];
    const provided = new Map<string, string>();
    for (const source of container.envFrom) {
      if (source.configMapRef) {
        const data = objects.find(
          (object) => object.kind === 'ConfigMap' && object.metadata.name === source.configMapRef.name,
        )?.data as Record<string, string>;
        expect(data, `ConfigMap ${source.configMapRef.name}`).toBeDefined();
        for (const [key, value] of Object.entries(data)) provided.set(key, value);
      } else {
        const template = secrets.get(source.secretRef.name);
        expect(template, `Secret ${source.secretRef.name} in the template`).toBeDefined();
        expect(SECRET_USERS[source.secretRef.name]).toContain(service);
        for (const [key, value] of Object.entries(template ?? {})) provided.set(key, value);
      }
    }
    for (const variable of container.env) provided.set(variable.name, variable.value);

    const missing = variablesOf(service).filter((name) => !provided.has(name) && MAY_STAY_UNSET[name] === undefined);
    expect(missing).toEqual([]);
    // The values (with the template's placeholders for the Secrets) pass the service's own schema.
    const parsed = SERVICE_SCHEMAS[service].safeParse(Object.fromEntries(provided));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('gives the signing key only to the signer and the revocation service', () => {
    for (const deployment of deployments) {
      const secretNames = deployment.spec.template.spec.containers[0].envFrom
        .filter((source: { secretRef?: unknown }) => source.secretRef)
        .map((source: { secretRef: { name: string } }) => source.secretRef.name);
      const expected = Object.entries(SECRET_USERS)
        .filter(([, users]) => users.includes(deployment.metadata.name as ServiceName))
        .map(([name]) => name);
      expect(secretNames.sort()).toEqual(expected.sort());
    }
  });

  it('passes only variables some service reads in the ConfigMap (no typo goes unnoticed)', () => {
    const read = new Set(SERVICES.flatMap(variablesOf));
    const unknown = Object.keys(configMap(objects, 'divoc-config').data).filter((key) => !read.has(key));
    expect(unknown).toEqual([]);
  });

  it.each(SERVICES)('%s: a Service, an autoscaling/v2 HorizontalPodAutoscaler and a PodDisruptionBudget', (service) => {
    const selector = { 'app.kubernetes.io/name': service };
    expect(find(objects, 'Deployment', service).spec.selector.matchLabels).toEqual(selector);
    const svc = find(objects, 'Service', service);
    expect(svc.spec.selector).toEqual(selector);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: SERVICE_PORTS[service], targetPort: 'http' }]);
    const hpa = find(objects, 'HorizontalPodAutoscaler', service);
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
    const pdb = find(objects, 'PodDisruptionBudget', service);
    expect(pdb.spec.selector.matchLabels).toEqual(selector);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('never scales a Kafka consumer beyond the partitions it reads (the signer: certify)', () => {
    expect(find(objects, 'HorizontalPodAutoscaler', 'certificate-signer').spec.maxReplicas).toBeLessThanOrEqual(
      TOPIC_PARTITIONS.certify,
    );
    for (const [service, topics] of Object.entries(CONSUMES)) {
      const most = Math.max(...(topics ?? []).map((topic) => TOPIC_PARTITIONS[topic]));
      expect(find(objects, 'HorizontalPodAutoscaler', service).spec.maxReplicas).toBeLessThanOrEqual(most);
    }
  });

  it('runs the setup Jobs: migrations, Kafka topics with explicit partitions, etcd defaults', () => {
    const migrate = find(objects, 'Job', 'divoc-migrate').spec.template.spec.containers[0];
    expect(migrate.command).toEqual(['node', 'services/vaccination-api/tools/migrate.mjs']);
    expect(migrate.envFrom).toContainEqual({ secretRef: { name: 'divoc-secrets' } });
    const config = find(objects, 'Job', 'divoc-etcd-config').spec.template.spec.containers[0];
    expect(config.command).toEqual(['node', 'services/vaccination-api/tools/load-config.mjs']);
    for (const tool of ['migrate.mjs', 'load-config.mjs'])
      expect(existsSync(join(DEPLOY_DIR, 'docker/tools', tool))).toBe(true);
    const topics = find(objects, 'Job', 'divoc-kafka-topics').spec.template.spec.containers[0];
    expect(topics.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(topics.env).toContainEqual({
      name: 'KAFKA_BOOTSTRAP',
      valueFrom: { configMapKeyRef: { name: configMap(objects, 'divoc-config').metadata.name, key: 'KAFKA_BROKERS' } },
    });
    for (const { object, spec } of podSpecs(objects).filter(({ object }) => object.kind === 'Job')) {
      expect(object.metadata.labels?.['app.kubernetes.io/component']).toBe('setup');
      expect(spec.restartPolicy).toBe('OnFailure');
      const container = spec.containers[0];
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(container.resources.limits.memory).toBeDefined();
      expect(container.image).not.toMatch(/:latest$/);
      expect(container.image).toMatch(/:[\w][\w.-]*$/);
    }
  });

  it('routes the public paths of the Ingress to the right services', () => {
    const ingress = find(objects, 'Ingress', 'divoc');
    const routes = Object.fromEntries(
      ingress.spec.rules[0].http.paths.map(
        (path: { path: string; pathType: string; backend: { service: { name: string } } }) => [
          `${path.pathType} ${path.path}`,
          path.backend.service.name,
        ],
      ),
    );
    expect(routes).toEqual({
      'Exact /divoc/api/v1/certificate/revoked': 'revocation-service',
      'Prefix /divoc/api': 'vaccination-api',
      'Prefix /certificate/api': 'certificate-api',
      'Prefix /.well-known': 'certificate-api',
      'Prefix /status-lists': 'revocation-service',
      'Prefix /divoc/notification-service': 'notification-service',
      'Prefix /auth': 'keycloak',
    });
    expect(ingress.spec.tls[0].hosts).toEqual([ingress.spec.rules[0].host]);
    expect(find(objects, 'Service', 'keycloak').spec.type).toBe('ExternalName');
    // Bulk CSV uploads up to BULK_UPLOAD_MAX_BYTES must pass the Ingress.
    const bodyLimit = ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '';
    const maxBytes = SERVICE_SCHEMAS['vaccination-api'].shape.BULK_UPLOAD_MAX_BYTES.parse(undefined);
    expect(Number(/^(\d+)m$/.exec(bodyLimit)?.[1]) * 1024 * 1024).toBeGreaterThan(maxBytes);
  });

  it('allows only the flows of DESIGN §2 (default deny, ingress controller, Prometheus, infrastructure)', () => {
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
    const deny = find(objects, 'NetworkPolicy', 'default-deny-all');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

    const fromController = find(objects, 'NetworkPolicy', 'allow-ingress-controller');
    expect(fromController.spec.podSelector.matchExpressions[0].values.sort()).toEqual([...HTTP_SERVICES].sort());
    const ingressRules = policies.flatMap((policy) => policy.spec.ingress ?? []);
    expect(ingressRules).toHaveLength(2); // ingress controller, Prometheus: nothing else may connect

    const prometheus = find(objects, 'NetworkPolicy', 'allow-prometheus');
    expect(prometheus.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'service' });
    expect(prometheus.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 'http' }]);

    const infrastructure = find(objects, 'NetworkPolicy', 'allow-egress-infrastructure');
    const ports = infrastructure.spec.egress.flatMap((rule: { ports: { port: number }[] }) =>
      rule.ports.map((port) => port.port),
    );
    for (const port of [9092, 5432, 6379, 2379, 8080, 443]) expect(ports).toContain(port);
    for (const rule of infrastructure.spec.egress.slice(0, 5)) {
      for (const peer of rule.to) expect(peer.ipBlock.cidr).not.toBe('0.0.0.0/0');
    }
    // Every pod can resolve names and reach the infrastructure; only notification-service reaches the internet.
    for (const { labels } of podSpecs(objects)) expect(labels['app.kubernetes.io/part-of']).toBe('divoc');
    expect(find(objects, 'NetworkPolicy', 'allow-egress-dns').spec.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/part-of': 'divoc',
    });
    const internet = policies.filter((policy) =>
      (policy.spec.egress ?? []).some((rule: { to: { ipBlock?: { cidr: string } }[] }) =>
        rule.to.some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0'),
      ),
    );
    expect(internet.map((policy) => policy.spec.podSelector)).toEqual([
      { matchLabels: { 'app.kubernetes.io/name': 'notification-service' } },
    ]);
  });
});

describe('the overlays', () => {
  it('size production above development', () => {
    const dev = renderKustomize('deploy/k8s/overlays/dev');
    const prod = renderKustomize('deploy/k8s/overlays/prod');
    for (const service of SERVICES) {
      const devHpa = find(dev, 'HorizontalPodAutoscaler', service).spec;
      const prodHpa = find(prod, 'HorizontalPodAutoscaler', service).spec;
      expect(prodHpa.minReplicas).toBeGreaterThanOrEqual(2);
      expect(prodHpa.minReplicas).toBeGreaterThan(devHpa.minReplicas);
      expect(prodHpa.maxReplicas).toBeGreaterThan(devHpa.maxReplicas);
      const devLimit = find(dev, 'Deployment', service).spec.template.spec.containers[0].resources.limits.memory;
      const prodLimit = find(prod, 'Deployment', service).spec.template.spec.containers[0].resources.limits.memory;
      expect(memoryMiB(prodLimit)).toBeGreaterThan(memoryMiB(devLimit));
    }
    const replication = (objects: K8sObject[]) =>
      find(objects, 'Job', 'divoc-kafka-topics').spec.template.spec.containers[0].env.find(
        (variable: { name: string }) => variable.name === 'KAFKA_REPLICATION_FACTOR',
      ).value;
    expect(replication(prod)).toBe('3');
  });

  it('the Secret template: valid Secrets with placeholders only, holding every secret variable', async () => {
    const templates = parseManifests(readRepoFile('deploy/k8s/secrets/divoc-secrets.template.yaml'));
    const problems = (await Promise.all(templates.map(kubernetesProblems))).flat();
    expect(problems).toEqual([]);
    expect(templates.map((secret) => secret.metadata.name).sort()).toEqual(Object.keys(SECRET_USERS).sort());
    const keys = templates.flatMap((secret) => Object.keys(secret.stringData));
    for (const variable of SECRET_VARIABLES.filter((name) => name !== 'SENDER_PASSWORD'))
      expect(keys).toContain(variable);
    for (const secret of templates) {
      for (const value of Object.values(secret.stringData) as string[]) expect(value).toContain('REPLACE_ME');
    }
  });
});

import type { K8sObject } from './support.js';

/** The kubernetes-models group names of the API groups used here (`IoK8sApi<Group><Version><Kind>`). */
const GROUPS: Record<string, string> = {
  '': 'Core',
  apps: 'Apps',
  batch: 'Batch',
  autoscaling: 'Autoscaling',
  policy: 'Policy',
  'networking.k8s.io': 'Networking',
  'rbac.authorization.k8s.io': 'Rbac',
};

type Validate = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string }[];
};
type ModelClass = new (data: unknown) => { validate(): void };

const split = (apiVersion: string): { group: string; version: string } => {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group: group ?? '', version: version ?? '' };
};

const modelOf = async (object: K8sObject): Promise<ModelClass> => {
  const { group, version } = split(object.apiVersion);
  const path =
    group === ''
      ? `kubernetes-models/${version}/${object.kind}`
      : `kubernetes-models/${group}/${version}/${object.kind}`;
  const module = (await import(path)) as Record<string, ModelClass>;
  const model = module[object.kind];
  if (!model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  return model;
};

const schemaOf = async (object: K8sObject): Promise<Validate> => {
  const { group, version } = split(object.apiVersion);
  const prefix = GROUPS[group];
  if (prefix === undefined) throw new Error(`no schema mapping for the API group "${group}"`);
  const name = `IoK8sApi${prefix}${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  const module = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validate };
  return module.validate;
};

/**
 * Fields the schema does not know. The generated validators read exactly the properties their schema
 * declares (and enumerate the keys of maps), so every key of the object that the validator never touched is
 * unknown to Kubernetes — a typo (`readinesProbe`) or a field at the wrong level, which `kubectl apply` would
 * reject or silently drop.
 */
const unknownFields = (object: K8sObject, validate: Validate): string[] => {
  const touched = new WeakMap<object, Set<string>>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const keys = touched.get(value) ?? new Set<string>();
    touched.set(value, keys);
    return new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string') keys.add(key);
        return wrap(Reflect.get(target, key, receiver));
      },
      ownKeys(target) {
        for (const key of Reflect.ownKeys(target)) if (typeof key === 'string') keys.add(key);
        return Reflect.ownKeys(target);
      },
    });
  };
  validate(wrap(object));
  const unknown: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    const keys = touched.get(value);
    for (const [key, child] of Object.entries(value)) {
      if (!keys?.has(key)) unknown.push(`${path}/${key}`);
      else walk(child, `${path}/${key}`);
    }
  };
  walk(object, '');
  return unknown;
};

/** Problems of one object against the Kubernetes schemas (empty when valid). */
export const kubernetesProblems = async (object: K8sObject): Promise<string[]> => {
  const where = `${object.kind}/${object.metadata?.name}`;
  const problems: string[] = [];
  try {
    new (await modelOf(object))(object).validate();
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  const validate = await schemaOf(object);
  if (!validate(object)) {
    problems.push(...(validate.errors ?? []).map((error) => `${where}${error.instancePath}: ${error.message}`));
  }
  problems.push(...unknownFields(object, validate).map((path) => `${where}${path}: unknown field`));
  return problems;
};

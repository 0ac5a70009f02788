import type { K8sResource } from './kustomize.js';

/** The parts of a container spec the environment comes from. */
export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: {
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      secretKeyRef?: { name: string; key: string; optional?: boolean };
    };
  }[];
  [key: string]: unknown;
}

/** The pod spec of a Deployment, StatefulSet or Job. */
export interface PodSpec {
  containers: ContainerSpec[];
  enableServiceLinks?: boolean;
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
  [key: string]: unknown;
}

export function podSpecOf(workload: K8sResource): PodSpec {
  const spec = workload['spec'] as { template?: { spec?: PodSpec } } | undefined;
  const pod = spec?.template?.spec;
  if (pod === undefined) throw new Error(`${workload.kind} ${workload.metadata.name} has no pod template`);
  return pod;
}

/**
 * The environment the kubelet would give a container: the Service link variables first (unless the
 * pod turns them off), then envFrom, then env in order, each `$(VAR)` in a value expanded from the
 * variables before it (`$$` is a literal `$`; an unknown reference stays as written, as Kubernetes
 * leaves it). A key missing from its ConfigMap or Secret is an error unless marked optional.
 */
export function containerEnvironment(
  pod: PodSpec,
  container: ContainerSpec,
  resources: readonly K8sResource[],
  namespace: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  const where = `container ${container.name}`;
  if (pod.enableServiceLinks !== false) {
    for (const service of resources.filter(
      (r) => r.kind === 'Service' && r.metadata.namespace === namespace,
    )) {
      Object.assign(env, serviceLinkVariables(service));
    }
  }
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef !== undefined) {
      const data = dataOf(resources, 'ConfigMap', source.configMapRef.name, namespace);
      if (data === undefined && source.configMapRef.optional !== true) {
        throw new Error(`${where}: envFrom ConfigMap ${source.configMapRef.name} does not exist`);
      }
      Object.assign(env, data ?? {});
    }
    if (source.secretRef !== undefined) {
      const data = dataOf(resources, 'Secret', source.secretRef.name, namespace);
      if (data === undefined && source.secretRef.optional !== true) {
        throw new Error(`${where}: envFrom Secret ${source.secretRef.name} does not exist`);
      }
      Object.assign(env, data ?? {});
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = expand(variable.value, env);
      continue;
    }
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    const kind = variable.valueFrom?.configMapKeyRef !== undefined ? 'ConfigMap' : 'Secret';
    if (ref === undefined) {
      env[variable.name] = '';
      continue;
    }
    const value = dataOf(resources, kind, ref.name, namespace)?.[ref.key];
    if (value === undefined) {
      if (ref.optional === true) continue;
      throw new Error(
        `${where}: ${variable.name} reads key ${ref.key} of ${kind} ${ref.name}, which is not there`,
      );
    }
    env[variable.name] = value;
  }
  return env;
}

/** `$(VAR)` references in a value, expanded the way the kubelet does it. */
export function expand(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return env[name] ?? match;
  });
}

/** The docker-link style variables Kubernetes sets for a Service (`GATEWAY_PORT=tcp://…`). */
export function serviceLinkVariables(service: K8sResource): Record<string, string> {
  const prefix = service.metadata.name.toUpperCase().replaceAll('-', '_');
  const ports = ((service['spec'] as { ports?: { name?: string; port: number; protocol?: string }[] })
    .ports ?? []) as { name?: string; port: number; protocol?: string }[];
  const host = '10.96.0.10';
  const env: Record<string, string> = { [`${prefix}_SERVICE_HOST`]: host };
  const first = ports[0];
  if (first !== undefined) {
    env[`${prefix}_SERVICE_PORT`] = String(first.port);
    env[`${prefix}_PORT`] = `tcp://${host}:${first.port}`;
  }
  for (const port of ports) {
    const protocol = (port.protocol ?? 'TCP').toUpperCase();
    const base = `${prefix}_PORT_${port.port}_${protocol}`;
    env[base] = `${protocol.toLowerCase()}://${host}:${port.port}`;
    env[`${base}_PROTO`] = protocol.toLowerCase();
    env[`${base}_PORT`] = String(port.port);
    env[`${base}_ADDR`] = host;
    if (port.name !== undefined)
      env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(port.port);
  }
  return env;
}

/** A ConfigMap's data or a Secret's stringData and (decoded) data; undefined if there is none. */
export function dataOf(
  resources: readonly K8sResource[],
  kind: 'ConfigMap' | 'Secret',
  name: string,
  namespace: string | undefined,
): Record<string, string> | undefined {
  const found = resources.find(
    (r) => r.kind === kind && r.metadata.name === name && (r.metadata.namespace ?? namespace) === namespace,
  );
  if (found === undefined) return undefined;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries((found['data'] ?? {}) as Record<string, string>)) {
    data[key] = kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
  }
  return { ...data, ...((found['stringData'] ?? {}) as Record<string, string>) };
}

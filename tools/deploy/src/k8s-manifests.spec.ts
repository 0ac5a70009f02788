import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerEnvironment, dataOf, podSpecOf } from './container-env.js';
import { type K8sResource, buildKustomization, findResource, parseYamlDocuments } from './kustomize.js';
import {
  AUTOSCALED_SERVICES,
  SERVICES,
  SERVICE_PORTS,
  type ServiceName,
  parseServiceConfig,
  serviceExists,
} from './service-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const k8s = join(root, 'deploy', 'k8s');
const BUILDS = { base: join(k8s, 'base'), 'overlays/local': join(k8s, 'overlays', 'local') } as const;
const NAMESPACE = 'adfunnel';

/** The Secret make-secret.sh prints (the one an operator applies), parsed. */
function generatedSecret(): K8sResource {
  const text = execFileSync('bash', [join(k8s, 'make-secret.sh')], { encoding: 'utf8' });
  const [secret] = parseYamlDocuments(text, 'make-secret.sh') as K8sResource[];
  if (secret === undefined) throw new Error('make-secret.sh printed nothing');
  return secret;
}

/** What the cluster holds after the README's two steps: the Secret, then `kubectl apply -k <build>`. */
function cluster(build: keyof typeof BUILDS): K8sResource[] {
  return [...buildKustomization(BUILDS[build]), generatedSecret()];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job']);
const workloads = (resources: K8sResource[]) => resources.filter((r) => WORKLOAD_KINDS.has(r.kind));
const podLabels = (w: K8sResource) =>
  (w['spec'] as { template: { metadata?: { labels?: Record<string, string> } } }).template.metadata?.labels ??
  {};
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** kubernetes-models' class for an apiVersion and kind, whose validate() checks the official OpenAPI schema. */
async function validatorOf(
  apiVersion: string,
  kind: string,
): Promise<new (data: unknown) => { validate(): void }> {
  const module = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  const model = module[kind];
  if (typeof model !== 'function') throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model as new (data: unknown) => { validate(): void };
}

function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

const key = (r: K8sResource) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;

describe.each(Object.keys(BUILDS) as (keyof typeof BUILDS)[])('deploy/k8s/%s', (build) => {
  const resources = cluster(build);
  const deployments = resources.filter((r) => r.kind === 'Deployment');

  it('is valid against the Kubernetes schemas, one object per kind and name, all in the namespace', async () => {
    const problems: string[] = [];
    for (const resource of resources) {
      const Model = await validatorOf(resource.apiVersion, resource.kind);
      try {
        new Model(resource).validate();
      } catch (err) {
        problems.push(`${key(resource)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (resource.kind !== 'Namespace')
        expect([key(resource), resource.metadata.namespace]).toEqual([key(resource), NAMESPACE]);
    }

    expect(problems).toEqual([]);
    expect(new Set(resources.map(key)).size).toBe(resources.length);
    expect(resources.map(key)).toContain(`Namespace//${NAMESPACE}`);
  });

  it('has a Deployment and a Service for every service, running its app on its port', () => {
    for (const service of SERVICES) {
      const deployment = findResource(resources, 'Deployment', service);
      const [container, ...others] = podSpecOf(deployment).containers;
      expect(others).toEqual([]);
      expect(container?.command).toEqual(['node', `apps/${service}/dist/main.js`]);
      expect(container?.image).toMatch(/^adfunnel(:|@|$)/);
      expect(container?.ports).toEqual([{ name: 'http', containerPort: SERVICE_PORTS[service] }]);
      const ports = (findResource(resources, 'Service', service)['spec'] as { ports: { port: number }[] })
        .ports;
      expect(ports.map((p) => p.port)).toEqual([SERVICE_PORTS[service]]);
    }
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICES].sort());
  });

  it('selects its pods with every workload selector and every Service, on ports the pods declare', () => {
    for (const workload of workloads(resources)) {
      const selector = (workload['spec'] as { selector?: { matchLabels: Record<string, string> } }).selector;
      if (workload.kind !== 'Job')
        expect(selects(selector?.matchLabels ?? { missing: 'selector' }, podLabels(workload))).toBe(true);
    }
    for (const service of resources.filter((r) => r.kind === 'Service')) {
      const spec = service['spec'] as {
        selector: Record<string, string>;
        ports: { targetPort?: string | number; port: number }[];
      };
      const targets = workloads(resources).filter(
        (w) => w.kind !== 'Job' && selects(spec.selector, podLabels(w)),
      );
      expect([service.metadata.name, targets.length]).toEqual([service.metadata.name, 1]);
      const containerPorts = podSpecOf(targets[0]).containers.flatMap((c) => c.ports ?? []);
      for (const port of spec.ports) {
        const target = port.targetPort ?? port.port;
        const declared = containerPorts.some((p) => p.name === target || p.containerPort === target);
        expect([service.metadata.name, target, declared]).toEqual([service.metadata.name, target, true]);
      }
    }
  });

  it('probes every service on /health at its declared port, and asks for and limits its resources', () => {
    for (const deployment of deployments) {
      for (const container of podSpecOf(deployment).containers) {
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          const httpGet = (
            container[probe] as { httpGet?: { path: string; port: string | number } } | undefined
          )?.httpGet;
          expect([deployment.metadata.name, probe, httpGet?.path]).toEqual([
            deployment.metadata.name,
            probe,
            '/health',
          ]);
          const port = (container.ports ?? []).find(
            (p) => p.name === httpGet?.port || p.containerPort === httpGet?.port,
          );
          expect([deployment.metadata.name, probe, port?.containerPort]).toEqual([
            deployment.metadata.name,
            probe,
            SERVICE_PORTS[deployment.metadata.name as keyof typeof SERVICE_PORTS],
          ]);
        }
      }
    }
    for (const workload of workloads(resources)) {
      for (const container of podSpecOf(workload).containers) {
        const resourcesOf = container['resources'] as {
          requests?: Record<string, string>;
          limits?: Record<string, string>;
        };
        expect([
          key(workload),
          Object.keys(resourcesOf.requests ?? {}).sort(),
          Object.keys(resourcesOf.limits ?? {}).sort(),
        ]).toEqual([key(workload), ['cpu', 'memory'], ['cpu', 'memory']]);
      }
    }
  });

  it('autoscales the stage services, and leaves their replicas to the autoscaler', () => {
    const hpas = resources.filter((r) => r.kind === 'HorizontalPodAutoscaler');

    expect(hpas.map((h) => h.metadata.name).sort()).toEqual([...AUTOSCALED_SERVICES].sort());
    for (const hpa of hpas) {
      const spec = hpa['spec'] as {
        scaleTargetRef: { apiVersion: string; kind: string; name: string };
        minReplicas: number;
        maxReplicas: number;
        metrics: { resource?: { name: string } }[];
      };
      const target = findResource(resources, spec.scaleTargetRef.kind, spec.scaleTargetRef.name);
      expect(target.apiVersion).toBe(spec.scaleTargetRef.apiVersion);
      expect(spec.minReplicas).toBeLessThanOrEqual(spec.maxReplicas);
      // A replicas field would set the count back on every apply; CPU utilization needs a CPU request.
      expect((target['spec'] as { replicas?: number }).replicas).toBeUndefined();
      for (const metric of spec.metrics) {
        if (metric.resource?.name === 'cpu') {
          for (const container of podSpecOf(target).containers) {
            expect((container['resources'] as { requests: { cpu?: string } }).requests.cpu).toBeDefined();
          }
        }
      }
    }
  });

  it('has every ConfigMap and Secret key a container reads, and the Secret holds nothing else', () => {
    const read = new Set<string>();
    for (const workload of workloads(resources)) {
      const pod = podSpecOf(workload);
      for (const container of pod.containers) {
        // Throws naming the variable and the key when one is missing.
        containerEnvironment(pod, container, resources, NAMESPACE);
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref !== undefined && ref.optional !== true) read.add(ref.key);
        }
      }
      for (const volume of pod.volumes ?? []) {
        if (volume.configMap !== undefined) findResource(resources, 'ConfigMap', volume.configMap.name);
      }
    }
    const secret = dataOf(resources, 'Secret', 'adfunnel-secrets', NAMESPACE) ?? {};
    expect(Object.keys(secret).sort()).toEqual([...read].sort());
  });

  it.each(SERVICES)('starts %s: its config schema accepts the environment the pod gets', async (service) => {
    if (!serviceExists(root, service)) {
      // apps/advertiser lands beside these manifests; until then only the manifest side is checked.
      expect(service).toBe('advertiser');
      return;
    }
    const deployment = findResource(resources, 'Deployment', service);
    const pod = podSpecOf(deployment);
    const container = pod.containers[0];
    const env = containerEnvironment(pod, container, resources, NAMESPACE);

    const config = await parseServiceConfig(root, service, env);

    const upper = service.toUpperCase();
    expect(config[`${upper}_PORT`]).toBe(SERVICE_PORTS[service]);
    expect(config[`${upper}_HOST`]).toBe('0.0.0.0');
    // Every $(VAR) resolved, and each URL names a Service of the namespace.
    expect(Object.entries(env).filter(([, value]) => value.includes('$('))).toEqual([]);
    for (const variable of ['NATS_URL', 'REDIS_URL', 'DATABASE_URL']) {
      const url = new URL(String(config[variable]));
      const target = findResource(resources, 'Service', url.hostname);
      const ports = (target['spec'] as { ports: { port: number }[] }).ports.map((p) => p.port);
      expect([variable, ports]).toEqual([variable, expect.arrayContaining([Number(url.port)])]);
    }
    expect(new URL(String(config['NATS_URL'])).username).toBe(service);
    if (service === 'logging') {
      // The latency panel of logging's /dashboard scrapes each serving service through its Service.
      const targets = config['DASHBOARD_METRICS_URLS'] as { service: ServiceName; url: string }[];
      expect(targets.map((t) => t.service).sort()).toEqual([
        'auction',
        'gateway',
        'logging',
        'ranking',
        'retrieval',
      ]);
      for (const { service: scraped, url } of targets) {
        const { hostname, port, pathname } = new URL(url);
        if (scraped !== 'logging') findResource(resources, 'Service', hostname);
        expect([scraped, hostname === '127.0.0.1' || hostname === scraped, Number(port), pathname]).toEqual([
          scraped,
          true,
          SERVICE_PORTS[scraped],
          '/metrics',
        ]);
      }
    }
    const annotations = (
      deployment['spec'] as { template: { metadata: { annotations: Record<string, string> } } }
    ).template.metadata.annotations;
    expect(annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(SERVICE_PORTS[service]),
      'prometheus.io/path': '/metrics',
    });
  });

  it('would break the services with Service links on: they are off in every pod that reads *_PORT', async () => {
    // Kubernetes sets GATEWAY_PORT=tcp://..., LOGGING_PORT=tcp://... for every Service unless a pod
    // turns them off; the gateway would read LOGGING_PORT as a number and refuse to start.
    const gateway = findResource(resources, 'Deployment', 'gateway');
    const pod = podSpecOf(gateway);
    const env = containerEnvironment(
      { ...pod, enableServiceLinks: true },
      pod.containers[0],
      resources,
      NAMESPACE,
    );

    expect(env['LOGGING_PORT']).toMatch(/^tcp:\/\//);
    await expect(parseServiceConfig(root, 'gateway', env)).rejects.toThrow('LOGGING_PORT');
    for (const deployment of deployments) expect(podSpecOf(deployment).enableServiceLinks).toBe(false);
  });

  it('lets every service into NATS as its own user of nats.conf, with the password NATS has for it', () => {
    const nats = findResource(resources, 'StatefulSet', 'nats');
    const natsPod = podSpecOf(nats);
    const natsEnv = containerEnvironment(natsPod, natsPod.containers[0], resources, NAMESPACE);
    const conf = dataOf(resources, 'ConfigMap', 'nats-config', NAMESPACE)?.['nats.conf'] ?? '';
    const users = new Map(
      [...conf.matchAll(/user:\s*(\w+)\s*\n\s*password:\s*\$(\w+)/g)].map((m) => [m[1], m[2]]),
    );

    for (const service of SERVICES) {
      const pod = podSpecOf(findResource(resources, 'Deployment', service));
      const url = new URL(
        containerEnvironment(pod, pod.containers[0], resources, NAMESPACE)['NATS_URL'] ?? '',
      );
      expect(url.username).toBe(service);
      expect(natsEnv[users.get(service) ?? 'no user']).toBe(`"${url.password}"`);
    }
    expect(conf).toBe(readFileSync(join(root, 'docker', 'nats.conf'), 'utf8'));
  });
});

describe('deploy/k8s/overlays/local', () => {
  it('changes the image, the replicas and the autoscaling bounds, and nothing it does not name', () => {
    const base = buildKustomization(BUILDS.base);
    const local = buildKustomization(BUILDS['overlays/local']);
    const images = (rs: K8sResource[]) =>
      workloads(rs)
        .flatMap((w) => podSpecOf(w).containers.map((c) => c.image))
        .filter((i) => i?.startsWith('adfunnel'));

    expect(new Set(images(base))).toEqual(new Set(['adfunnel:latest']));
    expect(new Set(images(local))).toEqual(new Set(['adfunnel:local']));
    expect((findResource(local, 'Deployment', 'logging')['spec'] as { replicas: number }).replicas).toBe(1);
    for (const hpa of local.filter((r) => r.kind === 'HorizontalPodAutoscaler')) {
      expect(hpa['spec']).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
    }
    expect(local.map(key).sort()).toEqual(base.map(key).sort());
  });
});

describe('the kustomize resolution of these checks', () => {
  const kubectl = hasKubectl();

  it.each(Object.keys(BUILDS) as (keyof typeof BUILDS)[])(
    'matches `kubectl kustomize %s` where kubectl is installed',
    (build) => {
      if (!kubectl) return; // kubectl is not on every machine; the checks above do not need it
      const text = execFileSync('kubectl', ['kustomize', BUILDS[build]], { encoding: 'utf8' });
      const expected = (parseYamlDocuments(text, 'kubectl kustomize') as K8sResource[]).sort((a, b) =>
        key(a).localeCompare(key(b)),
      );

      const actual = buildKustomization(BUILDS[build]).sort((a, b) => key(a).localeCompare(key(b)));

      expect(actual).toEqual(expected);
    },
  );
});

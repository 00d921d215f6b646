/**
 * No Docker engine runs on these machines, so the compose file is checked statically: it
 * parses, every image is pinned, and our services receive only variables the config knows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { variables } from '../src/config';
import { ALL_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, unknown> | string[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(fs.readFileSync(path.resolve(__dirname, '..', 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, Service>;
};

function envNames(service: Service): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env);
}

describe('docker-compose.yml', () => {
  it('has the production topology: Temporal on PostgreSQL, its Web UI, our worker and API, and the app database', () => {
    for (const name of ['temporal-db', 'temporal', 'temporal-ui', 'app-db', 'worker', 'api']) {
      assert.ok(compose.services[name], `service ${name}`);
    }
    assert.equal(compose.services.temporal!.depends_on?.['temporal-db']?.condition, 'service_healthy');
  });

  it('pins every image to an explicit version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.image, `${name} has an image`);
      const tag = service.image.split(':')[1];
      assert.ok(
        tag && tag !== 'latest' && /\d/.test(tag),
        `${name}: image ${service.image} needs a version tag`,
      );
    }
  });

  it('gives each long-running dependency a health check', () => {
    for (const name of ['temporal-db', 'temporal', 'app-db', 'api']) {
      assert.ok(compose.services[name]!.healthcheck, `${name} has a healthcheck`);
    }
  });

  it('passes our services only variables the configuration module knows', () => {
    const known = new Set(Object.keys(variables));
    const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    assert.deepEqual(ours.map(([n]) => n).sort(), ['api', 'worker']);
    for (const [name, service] of ours) {
      const unknown = envNames(service).filter((v) => !known.has(v));
      assert.deepEqual(unknown, [], `${name} passes variables unknown to src/config/variables.ts`);
      assert.ok(envNames(service).includes('TEMPORAL_ADDRESS'), `${name} connects to the compose Temporal`);
    }
  });

  it('registers every custom search attribute the workflows use', () => {
    const setup = JSON.stringify(compose.services['temporal-setup']);
    for (const key of ALL_SEARCH_ATTRIBUTES) assert.ok(setup.includes(`${key.name}=`), key.name);
  });
});

/**
 * The HTTP API: Shopify webhooks, health, metrics, dashboard and sandbox outbox. Routers are
 * mounted here; each lives in its own module under src/api/.
 */
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db';
import type { LinkSigner } from '../metrics/links';
import type { MetricsStore } from '../metrics/store';
import { temporalReachable } from '../temporal/connection';
import { vendorModes } from '../vendors/modes';
import { codecRouter } from './codec';
import { dashboardRouter } from './dashboard';
import { sandboxOutboxRouter } from './sandbox-outbox';
import { PrometheusRegistry } from '../prometheus';
import { createRelay } from '../relay';
import { webhookRouter } from './webhooks';

export interface ApiDeps {
  config: Config;
  client: Client;
  /** The app database (relay bookkeeping), migrated by the caller. */
  database: Database;
  /** Metrics store and link signer (src/api/dashboard/; compliance erasures reach them too). */
  metrics: { store: MetricsStore; signer: LinkSigner };
}

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  // Liveness: the process is up and serving.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: Temporal answers, so a webhook accepted now would be durably handed over.
  app.get('/readyz', async (_req, res) => {
    const ok = await temporalReachable(deps.client);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'temporal unreachable' });
  });

  // Prometheus scrape endpoint; each app has its own registry.
  const registry = new PrometheusRegistry();
  registry.registerProcessMetrics();
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(await registry.render());
  });

  // Shopify webhooks: POST /webhooks/shopify (src/api/webhooks.ts over the relay in src/relay/).
  const relay = createRelay({ ...deps, registry });
  app.use(webhookRouter(relay, deps.config.relay.bodyLimitBytes));

  // What the sandbox vendors "sent": GET /sandbox/outbox (src/api/sandbox-outbox.ts).
  app.use(
    '/sandbox/outbox',
    sandboxOutboxRouter({ dataDir: deps.config.dataDir, modes: vendorModes(deps.config) }),
  );

  // Tracked links GET /r/:token, GET /dashboard, GET /api/metrics/* (src/api/dashboard/).
  app.use(dashboardRouter({ config: deps.config, ...deps.metrics }));

  // Opens payloads sealed with TEMPORAL_PAYLOAD_KEYS for the Web UI: POST /codec/decode.
  const codec = codecRouter(deps.config);
  if (codec) app.use('/codec', codec);

  return app;
}

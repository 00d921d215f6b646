/**
 * The HTTP API: Shopify webhooks, health, metrics, dashboard and sandbox outbox. Routers are
 * mounted here; each lives in its own module under src/api/.
 */
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { temporalReachable } from '../temporal/connection';
import { vendorModes } from '../vendors/modes';
import { sandboxOutboxRouter } from './sandbox-outbox';

export interface ApiDeps {
  config: Config;
  client: Client;
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

  // What the sandbox vendors "sent": GET /sandbox/outbox (src/api/sandbox-outbox.ts).
  app.use(
    '/sandbox/outbox',
    sandboxOutboxRouter({ dataDir: deps.config.dataDir, modes: vendorModes(deps.config) }),
  );

  return app;
}

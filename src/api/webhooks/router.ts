/**
 * `POST /webhooks/shopify`: reads the raw body (the signature covers the exact bytes), bounded
 * by WEBHOOK_BODY_LIMIT, and lets the relay decide the answer. Every answer is JSON.
 */
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Database } from '../../db';
import type { LinkSigner } from '../../metrics/links';
import type { MetricsStore } from '../../metrics/store';
import { taskQueues } from '../../temporal/task-queues';
import type { PrometheusRegistry } from '../prometheus';
import { logger } from '../../logger';
import { RelayMetrics } from './metrics';
import { recoveryPolicyFor } from './policy';
import { WebhookRelay } from './relay';
import { RelayStore } from './store';

export const WEBHOOK_PATH = '/webhooks/shopify';

/** The relay as the API and the dead-letter command build it from the configuration. */
export function createRelay(deps: {
  config: Config;
  client: Client;
  database: Database;
  registry: PrometheusRegistry;
  /** Compliance erasures reach the metrics rows too. */
  metrics: { store: MetricsStore; signer: LinkSigner };
}): WebhookRelay {
  const store = new RelayStore(deps.database);
  const queues = taskQueues(deps.config);
  return new WebhookRelay({
    client: deps.client,
    store,
    settings: deps.config.relay,
    start: {
      workflowTaskQueue: queues.workflows,
      activityTaskQueues: {
        klaviyo: queues.klaviyo,
        klaviyoProfiles: queues.klaviyoProfiles,
        shopify: queues.shopify,
        gorgias: queues.gorgias,
      },
      policy: recoveryPolicyFor(deps.config),
    },
    metrics: new RelayMetrics(deps.registry, () => store.countPendingDeadLetters()),
    metricsStore: deps.metrics.store,
    recipientHash: (email) => deps.metrics.signer.recipientHash(email),
  });
}

export function webhookRouter(relay: WebhookRelay, bodyLimitBytes: number): Router {
  const router = express.Router();
  // Any content type: Shopify sends application/json, but the signature decides, not the header.
  router.post(WEBHOOK_PATH, express.raw({ type: () => true, limit: bodyLimitBytes }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await relay.receive(req.headers, body);
    res.status(answer.status).json(answer.body);
  });
  router.all(WEBHOOK_PATH, (_req, res) => {
    res.status(405).set('Allow', 'POST').json({ error: 'Shopify webhooks are POSTed here' });
  });
  const bodyErrors: ErrorRequestHandler = (
    err: { type?: string; status?: number; message?: string },
    req,
    res,
    next,
  ) => {
    if (req.path !== WEBHOOK_PATH) return next(err);
    if (err.type === 'entity.too.large') {
      const topic = req.headers['x-shopify-topic'];
      const answer = relay.tooLarge(typeof topic === 'string' ? topic : undefined, bodyLimitBytes);
      res.status(answer.status).json(answer.body);
      return;
    }
    // Aborted or undecodable bodies: the sender gets a clear 4xx, Shopify retries.
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error('webhook request failed', { err });
    res.status(status).json({ error: err.message ?? 'request failed' });
  };
  router.use(bodyErrors);
  return router;
}

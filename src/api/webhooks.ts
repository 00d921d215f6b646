/**
 * `POST /webhooks/shopify`: reads the raw body (the signature covers the exact bytes), bounded
 * by WEBHOOK_BODY_LIMIT, and lets the relay decide the answer. Every answer is JSON.
 */
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { WebhookRelay } from '../relay/relay';
import { WEBHOOK_PATH } from '../relay/topics';
import { logger } from '../logger';

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

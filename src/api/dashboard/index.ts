/**
 * The metrics routes: `/r/:token` (tracked links, public), and behind dashboard auth
 * `/dashboard` (HTML) and `/api/metrics/summary`, `/api/metrics/shops` (JSON, docs/metrics.md).
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { temporalUiUrlOf, type Config } from '../../config';
import type { LinkSigner } from '../../metrics/links';
import type { MetricsStore, MetricsSummary } from '../../metrics/store';
import { logger } from '../../logger';
import { assertDashboardAuth, dashboardAuth } from './auth';
import { renderDashboard } from './dashboard-page';
import { parseFilter } from './filter';
import { redirectRouter } from './redirect';

export interface DashboardDeps {
  config: Config;
  store: MetricsStore;
  signer: LinkSigner;
}

/** Link of a cart's workflow in the Temporal Web UI. */
export function workflowUiUrl(config: Config, workflowId: string): string {
  const base = temporalUiUrlOf(config);
  return `${base}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Throws DashboardAuthError when the dashboard would be exposed without credentials. */
export function dashboardRouter(deps: DashboardDeps): Router {
  const { config, store } = deps;
  const router = Router();
  router.use(redirectRouter({ store, signer: deps.signer }));
  if (config.dashboard.auth === 'disabled') return router;
  assertDashboardAuth(config);
  if (config.dashboard.auth === 'local') {
    logger.warn(
      'dashboard without credentials (DASHBOARD_AUTH=local, NODE_ENV=development): it answers this machine only; set DASHBOARD_TOKEN to share it',
    );
  }

  const guard = dashboardAuth(config);
  const withUiLinks = (s: MetricsSummary) => ({
    ...s,
    recentCarts: s.recentCarts.map((c) => ({
      ...c,
      workflowUrl: c.workflowId ? workflowUiUrl(config, c.workflowId) : null,
    })),
  });

  router.get('/api/metrics/summary', guard, async (req, res) => {
    const parsed = parseFilter(req.query, store.timeZone);
    if (!parsed.ok) {
      res.status(400).json({ error: 'invalid filter', problems: parsed.problems });
      return;
    }
    res.json(withUiLinks(await store.summary(parsed.filter)));
  });

  router.get('/api/metrics/shops', guard, async (_req, res) => {
    res.json({ shops: await store.shops() });
  });

  router.get('/dashboard', guard, async (req, res) => {
    const parsed = parseFilter(req.query, store.timeZone);
    if (!parsed.ok) {
      res
        .status(400)
        .type('text')
        .send(`Invalid filter: ${parsed.problems.join('; ')}`);
      return;
    }
    const [summary, shops] = await Promise.all([store.summary(parsed.filter), store.shops()]);
    const nonce = randomBytes(16).toString('base64');
    res
      .set(
        'Content-Security-Policy',
        `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      )
      .set('X-Content-Type-Options', 'nosniff')
      .set('Referrer-Policy', 'no-referrer')
      .type('html')
      .send(
        renderDashboard({
          summary,
          shops,
          workflowUrl: (id) => workflowUiUrl(config, id),
          nonce,
        }),
      );
  });
  return router;
}

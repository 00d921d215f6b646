/**
 * The metrics routes (tracked links, dashboard, JSON API) on an HTTP server of their own, over
 * an in-memory SQLite metrics store, for the dashboard and redirect tests.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { loadConfig, type Config } from '../../src/config';
import { openDatabase, type Database } from '../../src/db';
import { openMetricsStore, type MetricsStore } from '../../src/metrics/store';
import { createLinkSigner, type LinkSigner } from '../../src/metrics/links';
import { dashboardRouter } from '../../src/api/dashboard';

export const TEST_LINK_SECRET = 'metrics-app-test-link-secret-0123456789';
export const TEST_DASHBOARD_TOKEN = 'dashboard-test-token-0123456789';

export interface MetricsApp {
  url: string;
  config: Config;
  store: MetricsStore;
  signer: LinkSigner;
  db: Database;
  close(): Promise<void>;
}

export async function startMetricsApp(
  env: Record<string, string> = {},
  host = '127.0.0.1',
): Promise<MetricsApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LINK_SIGNING_SECRET: TEST_LINK_SECRET,
    DASHBOARD_TOKEN: TEST_DASHBOARD_TOKEN,
    TEMPORAL_ADDRESS: 'temporal.test:7233',
    TEMPORAL_UI_URL: 'http://temporal-ui.test:8233',
    TEMPORAL_NAMESPACE: 'shop-ns',
    ...env,
  });
  const db = await openDatabase({ sqliteFile: ':memory:' });
  const store = await openMetricsStore(db, { timeZone: config.metrics.timeZone });
  const signer = createLinkSigner(TEST_LINK_SECRET);
  const app = express();
  app.use(dashboardRouter({ config, store, signer }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, host, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    config,
    store,
    signer,
    db,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await db.close();
    },
  };
}

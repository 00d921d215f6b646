/**
 * Test plumbing for the webhook relay: the real express app on port 0 with a real Temporal
 * client, a fresh app database, and helpers to post signed deliveries and to make shoppers.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { WEBHOOK_PATH } from '../../src/relay/topics';
import { migrateRelay } from '../../src/relay/migrations';
import { loadConfig, type Config } from '../../src/config';
import { openDatabase, type Database } from '../../src/db';
import { createLinkSigner } from '../../src/metrics/links';
import { openMetricsStore } from '../../src/metrics/store';
import {
  postDelivery,
  type PostResult,
  type SimCheckout,
  type WebhookDelivery,
} from '../../src/simulator/shopify-webhooks';

export const SECRET_OLD = 'shpss_old_secret_still_valid_during_rotation';
export const SECRET_NEW = 'shpss_new_secret_after_rotation';
export const OWN_SHOP = 'own-secret.myshopify.com';
export const OWN_SHOP_SECRET = 'shpss_secret_of_a_custom_app_for_one_shop';
/** Link signer of the relay tests: recipient hashes in the metrics store are keyed by it. */
export const TEST_LINK_SIGNER = createLinkSigner('link-signing-secret-of-the-relay-tests-0123456789');

export interface RelayHarness {
  config: Config;
  database: Database;
  baseUrl: string;
  url: string;
  post(d: WebhookDelivery, secret?: string): Promise<PostResult>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export function relayConfig(taskQueue: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_TASK_QUEUE: taskQueue,
    SHOPIFY_WEBHOOK_SECRET: `${SECRET_OLD},${SECRET_NEW}`,
    SHOPIFY_WEBHOOK_SHOP_SECRETS: `${OWN_SHOP}=${OWN_SHOP_SECRET}`,
    WEBHOOK_BODY_LIMIT: '64kb',
    WEBHOOK_TEMPORAL_TIMEOUT: '1500ms',
    DATA_DIR: path.join(os.tmpdir(), 'cart-recovery-relay-tests'),
    LOG_LEVEL: 'error',
    ...env,
  });
}

/** The API (with the relay) listening on a free port, on its own database. */
export async function startRelay(options: {
  client: Client;
  config: Config;
  database?: Database;
}): Promise<RelayHarness> {
  const database = options.database ?? (await openDatabase({ sqliteFile: ':memory:' }));
  await migrateRelay(database);
  const metrics = {
    store: await openMetricsStore(database, { timeZone: options.config.metrics.timeZone }),
    signer: TEST_LINK_SIGNER,
  };
  const app = createApp({ config: options.config, client: options.client, database, metrics });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${baseUrl}${WEBHOOK_PATH}`;
  return {
    config: options.config,
    database,
    baseUrl,
    url,
    post: (d, secret = SECRET_NEW) => postDelivery(url, d, secret),
    metrics: async () => (await fetch(`${baseUrl}/metrics`)).text(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.database) await database.close();
    },
  };
}

export function newShopper(overrides: Partial<SimCheckout> = {}): SimCheckout {
  const hex = () => randomBytes(16).toString('hex');
  const customerId = randomInt(1e9, 9e9);
  return {
    checkoutToken: hex(),
    cartToken: hex(),
    checkoutId: randomInt(1e10, 9e10),
    customerId,
    email: `shopper-${customerId}@example.com`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    acceptsMarketing: true,
    currency: 'USD',
    lineItems: [
      {
        productId: 632910392,
        variantId: 808950810,
        title: 'Trail Runner',
        variantTitle: 'Blue / 42',
        sku: 'TR-BL-42',
        quantity: 2,
        price: '59.90',
      },
    ],
    ...overrides,
  };
}

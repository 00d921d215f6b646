/**
 * A local fake of the Shopify Admin GraphQL webhook-subscription API, enforcing the wire
 * contract the subscribe command relies on: `POST /admin/api/<version>/graphql.json`, the
 * `X-Shopify-Access-Token` header (401 with Shopify's body otherwise), JSON `{query, variables}`,
 * the `WebhookSubscriptionTopic` enum, HTTPS-only `uri` (a userError otherwise), cursor paging,
 * and THROTTLED answers given with HTTP 200 when scripted.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';

export const WEBHOOK_TOPIC_ENUM = new Set([
  'APP_UNINSTALLED',
  'CARTS_CREATE',
  'CARTS_UPDATE',
  'CHECKOUTS_CREATE',
  'CHECKOUTS_DELETE',
  'CHECKOUTS_UPDATE',
  'CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE',
  'CUSTOMERS_UPDATE',
  'ORDERS_CREATE',
  'ORDERS_PAID',
]);

export interface FakeSubscription {
  id: string;
  topic: string;
  uri: string;
  format: 'JSON' | 'XML';
}

export interface ShopifyWebhooksFake {
  baseUrl: string;
  accessToken: string;
  subscriptions: FakeSubscription[];
  /** Operation names received (`WebhookSubscriptions`, `WebhookSubscriptionCreate`, ...). */
  calls: string[];
  /** Answer the next `n` requests with a THROTTLED error (HTTP 200, as Shopify does). */
  throttleNext(n: number): void;
  close(): Promise<void>;
}

export async function startShopifyWebhooksFake(
  options: { accessToken?: string; pageSize?: number; subscriptions?: FakeSubscription[] } = {},
): Promise<ShopifyWebhooksFake> {
  const accessToken = options.accessToken ?? 'shpat_fake_admin_token';
  const pageSize = options.pageSize ?? 2;
  const subscriptions: FakeSubscription[] = [...(options.subscriptions ?? [])];
  const calls: string[] = [];
  let throttled = 0;
  let nextId = 1000;

  const app = express();
  app.post('/admin/api/:version/graphql.json', express.json(), (req, res) => {
    if (!/^\d{4}-(01|04|07|10)$/.test(req.params.version)) {
      res.status(404).json({ errors: 'Not Found' });
      return;
    }
    if (req.get('x-shopify-access-token') !== accessToken) {
      res
        .status(401)
        .json({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      return;
    }
    if (!req.is('application/json')) {
      res.status(415).json({ errors: 'expected Content-Type: application/json' });
      return;
    }
    const { query, variables } = req.body as { query?: unknown; variables?: Record<string, unknown> };
    if (typeof query !== 'string') {
      res.status(400).json({ errors: [{ message: 'Parameter Missing or Invalid: query' }] });
      return;
    }
    const operation = /^(query|mutation)\s+(\w+)/.exec(query.trim())?.[2] ?? '(anonymous)';
    calls.push(operation);
    const cost = {
      requestedQueryCost: 12,
      actualQueryCost: 12,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 0, restoreRate: 100 },
    };
    if (throttled > 0) {
      throttled--;
      res.json({
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: { cost },
      });
      return;
    }
    const vars = variables ?? {};
    const input = vars.webhookSubscription as { uri?: string; format?: string } | undefined;
    const invalidUri = (uri: unknown) =>
      typeof uri !== 'string' || !uri.startsWith('https://')
        ? [{ field: ['webhookSubscription', 'uri'], message: 'Address protocol http:// is not supported' }]
        : [];

    if (query.includes('webhookSubscriptions(')) {
      const start = typeof vars.after === 'string' ? Number(vars.after) : 0;
      const nodes = subscriptions.slice(start, start + pageSize);
      const hasNextPage = start + pageSize < subscriptions.length;
      res.json({
        data: {
          webhookSubscriptions: {
            nodes,
            pageInfo: { hasNextPage, endCursor: hasNextPage ? String(start + pageSize) : null },
          },
        },
        extensions: { cost },
      });
    } else if (query.includes('webhookSubscriptionCreate(')) {
      const topic = vars.topic;
      if (typeof topic !== 'string' || !WEBHOOK_TOPIC_ENUM.has(topic)) {
        res.json({
          errors: [
            {
              message: `Variable $topic of type WebhookSubscriptionTopic! was provided invalid value`,
              extensions: { code: 'INVALID_VARIABLE' },
            },
          ],
        });
        return;
      }
      const userErrors = invalidUri(input?.uri);
      let created: FakeSubscription | null = null;
      if (userErrors.length === 0) {
        created = {
          id: `gid://shopify/WebhookSubscription/${nextId++}`,
          topic,
          uri: input!.uri!,
          format: input?.format === 'XML' ? 'XML' : 'JSON',
        };
        subscriptions.push(created);
      }
      res.json({
        data: { webhookSubscriptionCreate: { webhookSubscription: created, userErrors } },
        extensions: { cost },
      });
    } else if (query.includes('webhookSubscriptionUpdate(')) {
      const existing = subscriptions.find((s) => s.id === vars.id);
      const userErrors = existing
        ? invalidUri(input?.uri)
        : [{ field: ['id'], message: 'Webhook subscription does not exist' }];
      if (existing && userErrors.length === 0) {
        existing.uri = input!.uri!;
        if (input?.format === 'JSON' || input?.format === 'XML') existing.format = input.format;
      }
      res.json({
        data: {
          webhookSubscriptionUpdate: { webhookSubscription: userErrors.length ? null : existing, userErrors },
        },
        extensions: { cost },
      });
    } else {
      res.json({ errors: [{ message: `the fake does not know this operation: ${operation}` }] });
    }
  });

  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accessToken,
    subscriptions,
    calls,
    throttleNext: (n) => (throttled = n),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

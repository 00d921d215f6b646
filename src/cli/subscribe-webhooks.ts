/**
 * `npm run subscribe-webhooks`: registers every webhook topic the relay needs for the shop in
 * SHOPIFY_SHOP_DOMAIN, pointing at PUBLIC_URL/webhooks/shopify, through the Admin GraphQL API
 * (token SHOPIFY_ADMIN_ACCESS_TOKEN). Idempotent: it lists the app's subscriptions first, leaves
 * correct ones alone, points a topic's existing subscription at the relay if it points elsewhere,
 * and creates only what is missing. It prints what it did.
 *
 *   npm run subscribe-webhooks [-- --address https://relay.example.com/webhooks/shopify] [--dry-run]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfigOrExit } from '../config';
import { RELAY_TOPICS, WEBHOOK_PATH } from '../relay/topics';

export interface AdminEndpoint {
  /** `https://<shop>` or a test server. */
  baseUrl: string;
  apiVersion: string;
  accessToken: string;
}

export interface Subscription {
  id: string;
  topic: string;
  uri: string | null;
  format: string | null;
}

export type SubscriptionChange =
  | { action: 'unchanged'; topic: string; id: string }
  | { action: 'created'; topic: string; id: string | null }
  | { action: 'updated'; topic: string; id: string; from: string | null }
  | { action: 'other'; topic: string; id: string; uri: string | null };

export class AdminGraphqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminGraphqlError';
  }
}

/** `checkouts/create` -> `CHECKOUTS_CREATE` (the GraphQL WebhookSubscriptionTopic enum). */
export function topicEnum(topic: string): string {
  return topic.replace('/', '_').toUpperCase();
}

const LIST = `query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri format }
    pageInfo { hasNextPage endCursor }
  }
}`;

const CREATE = `mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri format }
    userErrors { field message }
  }
}`;

const UPDATE = `mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri format }
    userErrors { field message }
  }
}`;

interface GraphqlAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[] | string;
  extensions?: {
    cost?: {
      requestedQueryCost?: number;
      throttleStatus?: { currentlyAvailable?: number; restoreRate?: number };
    };
  };
}

const MAX_ATTEMPTS = 6;

/** One Admin GraphQL call, waiting out throttling (HTTP 429 or a THROTTLED error with 200). */
async function graphql<T>(
  endpoint: AdminEndpoint,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/admin/api/${endpoint.apiVersion}/graphql.json`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-shopify-access-token': endpoint.accessToken,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    if (res.status === 429 && attempt < MAX_ATTEMPTS) {
      await sleep(Math.min(10, Number(res.headers.get('retry-after')) || 1) * 1000);
      continue;
    }
    if (res.status === 401 || res.status === 403)
      throw new AdminGraphqlError(
        `Shopify refused the access token (HTTP ${res.status}): check SHOPIFY_ADMIN_ACCESS_TOKEN and that the app is installed on the shop`,
      );
    if (!res.ok)
      throw new AdminGraphqlError(`Shopify Admin API answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as GraphqlAnswer<T>;
    const errors = typeof answer.errors === 'string' ? [{ message: answer.errors }] : (answer.errors ?? []);
    if (errors.some((e) => e.extensions?.code === 'THROTTLED') && attempt < MAX_ATTEMPTS) {
      const cost = answer.extensions?.cost;
      const missing = (cost?.requestedQueryCost ?? 10) - (cost?.throttleStatus?.currentlyAvailable ?? 0);
      const rate = cost?.throttleStatus?.restoreRate || 50;
      await sleep(Math.max(200, Math.ceil((missing / rate) * 1000)));
      continue;
    }
    if (errors.length > 0 || !answer.data)
      throw new AdminGraphqlError(
        `Shopify Admin GraphQL error: ${errors.map((e) => e.message).join('; ') || 'no data in the answer'}`,
      );
    return answer.data;
  }
}

export async function listSubscriptions(endpoint: AdminEndpoint): Promise<Subscription[]> {
  const all: Subscription[] = [];
  let after: string | null = null;
  do {
    const data: {
      webhookSubscriptions: {
        nodes: Subscription[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    } = await graphql(endpoint, LIST, { after });
    all.push(...data.webhookSubscriptions.nodes);
    after = data.webhookSubscriptions.pageInfo.hasNextPage
      ? data.webhookSubscriptions.pageInfo.endCursor
      : null;
  } while (after);
  return all;
}

function checkUserErrors(what: string, errors: { field?: string[] | null; message: string }[]) {
  if (errors.length > 0)
    throw new AdminGraphqlError(
      `${what} refused: ${errors.map((e) => `${e.field?.join('.') ?? ''} ${e.message}`.trim()).join('; ')}`,
    );
}

/**
 * Make the shop's subscriptions for `topics` point at `uri` (JSON format). Returns what was
 * (or, with `dryRun`, would be) done per topic.
 */
export async function subscribeWebhooks(options: {
  endpoint: AdminEndpoint;
  uri: string;
  topics?: readonly string[];
  dryRun?: boolean;
}): Promise<SubscriptionChange[]> {
  const { endpoint, uri } = options;
  const existing = await listSubscriptions(endpoint);
  const changes: SubscriptionChange[] = [];
  for (const topic of (options.topics ?? RELAY_TOPICS).map(topicEnum)) {
    const mine = existing.filter((s) => s.topic === topic);
    const correct = mine.find((s) => s.uri === uri && (s.format ?? 'JSON') === 'JSON');
    if (correct) {
      changes.push({ action: 'unchanged', topic, id: correct.id });
    } else if (mine[0]) {
      const stale = mine[0];
      if (!options.dryRun) {
        const data = await graphql<{
          webhookSubscriptionUpdate: { userErrors: { field?: string[] | null; message: string }[] };
        }>(endpoint, UPDATE, { id: stale.id, webhookSubscription: { uri, format: 'JSON' } });
        checkUserErrors(`updating the ${topic} subscription`, data.webhookSubscriptionUpdate.userErrors);
      }
      changes.push({ action: 'updated', topic, id: stale.id, from: stale.uri });
    } else {
      let id: string | null = null;
      if (!options.dryRun) {
        const data = await graphql<{
          webhookSubscriptionCreate: {
            webhookSubscription: { id: string } | null;
            userErrors: { field?: string[] | null; message: string }[];
          };
        }>(endpoint, CREATE, { topic, webhookSubscription: { uri, format: 'JSON' } });
        checkUserErrors(`creating the ${topic} subscription`, data.webhookSubscriptionCreate.userErrors);
        id = data.webhookSubscriptionCreate.webhookSubscription?.id ?? null;
      }
      changes.push({ action: 'created', topic, id });
    }
    // Further subscriptions of the same topic (another environment of this app?) are reported,
    // not deleted: each would deliver every event once more.
    for (const other of mine.filter((s) => s !== correct && s !== mine[0]))
      changes.push({ action: 'other', topic, id: other.id, uri: other.uri });
    if (correct && mine[0] && mine[0] !== correct)
      changes.push({ action: 'other', topic, id: mine[0].id, uri: mine[0].uri });
  }
  return changes;
}

export function describeChange(c: SubscriptionChange, uri: string, dryRun = false): string {
  const column = (label: string) => `${label.padEnd(13)} ${c.topic.padEnd(41)}`;
  switch (c.action) {
    case 'unchanged':
      return `${column('unchanged')} ${uri} (${c.id})`;
    case 'created':
      return `${column(dryRun ? 'would create' : 'created')} ${uri}${c.id ? ` (${c.id})` : ''}`;
    case 'updated':
      return `${column(dryRun ? 'would update' : 'updated')} ${c.from ?? '(no uri)'} -> ${uri} (${c.id})`;
    case 'other':
      return `note: ${c.topic} has another subscription to ${c.uri ?? '(no uri)'} (${c.id}); left in place, it receives every event too`;
  }
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main() {
  const args = process.argv.slice(2);
  const config = loadConfigOrExit();
  const live = config.vendors.shopify.live;
  if (!live) {
    console.error(
      'subscribe-webhooks needs the shop and an Admin API token: set SHOPIFY_SHOP_DOMAIN and SHOPIFY_ADMIN_ACCESS_TOKEN (the app needs the read_orders and read_customers scopes for these topics).',
    );
    process.exit(78);
  }
  const uri = argValue(args, '--address') ?? `${config.api.publicUrl}${WEBHOOK_PATH}`;
  if (!uri.startsWith('https://')) {
    console.error(
      `Shopify delivers webhooks only over HTTPS; got ${uri} (set PUBLIC_URL or pass --address https://...)`,
    );
    process.exit(64);
  }
  const dryRun = args.includes('--dry-run');
  const changes = await subscribeWebhooks({
    endpoint: {
      baseUrl: live.baseUrl,
      apiVersion: config.vendors.shopify.apiVersion,
      accessToken: live.accessToken,
    },
    uri,
    dryRun,
  });
  console.log(`Webhook subscriptions of ${live.shopDomain}${dryRun ? ' (dry run: nothing changed)' : ''}:`);
  for (const c of changes) console.log(`  ${describeChange(c, uri, dryRun)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`subscribe-webhooks failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

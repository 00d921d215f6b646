import assert from 'node:assert/strict';
import {
  AdminGraphqlError,
  describeChange,
  subscribeWebhooks,
  topicEnum,
  type AdminEndpoint,
} from '../src/cli/subscribe-webhooks';
import { COMPLIANCE_TOPICS, RELAY_TOPICS } from '../src/relay/topics';
import { startShopifyWebhooksFake, type ShopifyWebhooksFake } from './fakes/shopify-webhooks-fake';

const URI = 'https://relay.example.com/webhooks/shopify';

describe('subscribe-webhooks (Admin GraphQL, against a local fake)', () => {
  let fake: ShopifyWebhooksFake;
  let endpoint: AdminEndpoint;
  afterEach(async () => {
    await fake?.close();
  });
  async function start(options: Parameters<typeof startShopifyWebhooksFake>[0] = {}) {
    fake = await startShopifyWebhooksFake(options);
    endpoint = { baseUrl: fake.baseUrl, apiVersion: '2025-10', accessToken: fake.accessToken };
  }

  it('never subscribes the compliance topics: Shopify takes them from the app configuration only', async () => {
    await start();
    await subscribeWebhooks({ endpoint, uri: URI });
    const subscribed = fake.subscriptions.map((s) => s.topic);
    for (const topic of COMPLIANCE_TOPICS) assert.ok(!subscribed.includes(topicEnum(topic)), topic);
  });

  it('creates a JSON subscription for every relay topic on a shop without any, and a second run changes nothing', async () => {
    await start();
    const first = await subscribeWebhooks({ endpoint, uri: URI });
    assert.deepEqual(
      first.map((c) => [c.action, c.topic]),
      RELAY_TOPICS.map((t) => ['created', topicEnum(t)]),
    );
    assert.deepEqual(
      fake.subscriptions.map((s) => [s.topic, s.uri, s.format]).sort(),
      RELAY_TOPICS.map((t) => [topicEnum(t), URI, 'JSON']).sort(),
    );
    assert.match(
      describeChange(first[0]!, URI),
      /^created\s+CHECKOUTS_CREATE\s+https:\/\/relay\.example\.com\/webhooks\/shopify \(gid:\/\/shopify\/WebhookSubscription\/\d+\)$/,
    );

    fake.calls.length = 0;
    const second = await subscribeWebhooks({ endpoint, uri: URI });
    assert.ok(second.every((c) => c.action === 'unchanged'));
    // Listed over several pages (the fake pages by 2), and no mutation at all.
    assert.deepEqual(fake.calls, Array(4).fill('WebhookSubscriptions'));
  });

  it('points a stale subscription at the relay, keeps unrelated topics, and reports a second one of the same topic', async () => {
    await start({
      subscriptions: [
        {
          id: 'gid://shopify/WebhookSubscription/1',
          topic: 'ORDERS_CREATE',
          uri: 'https://old.example.com/hooks',
          format: 'JSON',
        },
        {
          id: 'gid://shopify/WebhookSubscription/2',
          topic: 'APP_UNINSTALLED',
          uri: 'https://app.example.com/uninstalled',
          format: 'JSON',
        },
        { id: 'gid://shopify/WebhookSubscription/3', topic: 'CARTS_UPDATE', uri: URI, format: 'JSON' },
        {
          id: 'gid://shopify/WebhookSubscription/4',
          topic: 'CARTS_UPDATE',
          uri: 'https://staging.example.com/webhooks/shopify',
          format: 'JSON',
        },
      ],
    });
    const changes = await subscribeWebhooks({ endpoint, uri: URI });
    const byTopic = (topic: string) => changes.filter((c) => c.topic === topic).map((c) => c.action);
    assert.deepEqual(byTopic('ORDERS_CREATE'), ['updated']);
    assert.deepEqual(byTopic('CARTS_UPDATE'), ['unchanged', 'other']);
    assert.deepEqual(byTopic('CHECKOUTS_CREATE'), ['created']);
    assert.equal(fake.subscriptions.find((s) => s.id.endsWith('/1'))?.uri, URI);
    assert.equal(
      fake.subscriptions.find((s) => s.id.endsWith('/2'))?.uri,
      'https://app.example.com/uninstalled',
    );
    const updated = changes.find((c) => c.action === 'updated')!;
    assert.match(
      describeChange(updated, URI),
      /^updated\s+ORDERS_CREATE\s+https:\/\/old\.example\.com\/hooks -> https:\/\/relay/,
    );
  });

  it('changes nothing in a dry run but says what it would do', async () => {
    await start();
    const changes = await subscribeWebhooks({ endpoint, uri: URI, dryRun: true });
    assert.equal(changes.length, RELAY_TOPICS.length);
    assert.equal(fake.subscriptions.length, 0);
    assert.match(describeChange(changes[0]!, URI, true), /^would create\s+CHECKOUTS_CREATE\s+https/);
  });

  it('waits out a THROTTLED answer and carries on', async () => {
    await start();
    fake.throttleNext(1);
    const changes = await subscribeWebhooks({ endpoint, uri: URI, topics: ['orders/create'] });
    assert.deepEqual(
      changes.map((c) => c.action),
      ['created'],
    );
    assert.deepEqual(fake.calls, [
      'WebhookSubscriptions',
      'WebhookSubscriptions',
      'WebhookSubscriptionCreate',
    ]);
  });

  it('fails with a clear message on a wrong token and on a refused address', async () => {
    await start();
    await assert.rejects(
      subscribeWebhooks({ endpoint: { ...endpoint, accessToken: 'shpat_wrong' }, uri: URI }),
      (err: Error) =>
        err instanceof AdminGraphqlError && /refused the access token \(HTTP 401\)/.test(err.message),
    );
    await assert.rejects(
      subscribeWebhooks({ endpoint, uri: 'http://insecure.example.com/hook', topics: ['orders/create'] }),
      (err: Error) =>
        err instanceof AdminGraphqlError &&
        /creating the ORDERS_CREATE subscription refused: webhookSubscription\.uri Address protocol http:\/\/ is not supported/.test(
          err.message,
        ),
    );
  });
});

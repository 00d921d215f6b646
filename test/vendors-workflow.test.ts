/**
 * The real cartRecovery workflow with the real vendor activities, on the time-skipping server:
 * once against the vendor fakes through the live clients, once against the local sandbox. What
 * the vendors end up holding is what a shop would see after one abandoned premium cart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createGateActivities } from '../src/activities/customer-gate';
import { buildVendorActivities, type VendorActivities } from '../src/activities/vendors';
import { loadConfig } from '../src/config';
import { Outbox } from '../src/vendors/sandbox/outbox';
import { SandboxShopify } from '../src/vendors/sandbox/shopify';
import {
  allOnOneQueue,
  cartRig,
  FakeVendors,
  lineItem,
  registerSearchAttributes,
  snapshot,
} from './helpers/cart';
import { createTimeSkippingEnv, runThenEndWorkflows, uniqueId, workflowBundle } from './helpers/temporal';
import { FakeGorgias } from './fakes/gorgias';
import { FakeKlaviyo } from './fakes/klaviyo';
import { FakeShopify } from './fakes/shopify';
import { SECRETS, liveConfig, tempDataDir } from './fakes/vendor-env';

/** A premium cart (over the 200 USD threshold): four touches, codes from touch 2, a ticket. */
const premiumCart = (token: string, at: number) =>
  snapshot(token, at, {
    lineItems: [lineItem({ price: '125.00', quantity: 2, linePrice: '250.00' })],
    subtotalPrice: '250.00',
    totalPrice: '250.00',
  });

describe('cartRecovery workflow with the real vendor activities', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    env = await createTimeSkippingEnv();
    await registerSearchAttributes(env);
    bundle = await workflowBundle(require.resolve('../src/workflows'));
  });
  after(async () => {
    await env?.teardown();
  });

  async function runCart(title: string, vendors: VendorActivities) {
    const taskQueue = uniqueId(title);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: allOnOneQueue(
        createActivities({
          ...vendors,
          metrics: { recordMetric: () => Promise.resolve() },
          gate: createGateActivities(env.client),
        }),
      ),
    });
    const rig = cartRig(env, taskQueue, new FakeVendors());
    // A checkout of this test's own: a cart id, once closed, is never started again.
    const token = taskQueue;
    // The customer gate, in its cooldown, is ended after the result.
    return runThenEndWorkflows(env, worker, async () => {
      await rig.update(token, premiumCart(token, await rig.now()));
      return await rig.result(token);
    });
  }

  it('live clients against the fakes: four events, three codes (older ones revoked), one ticket', async function () {
    const klaviyo = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
    const shopify = await new FakeShopify(SECRETS.shopifyToken).start();
    const gorgias = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
    try {
      shopify.customers.add('gid://shopify/Customer/7');
      shopify.variants.set('gid://shopify/ProductVariant/11', {
        availableForSale: true,
        inventoryQuantity: 10,
        inventoryPolicy: 'DENY',
        tracked: true,
        imageUrl: 'https://cdn.example.com/v11.jpg',
        productImageUrl: null,
        onlineStoreUrl: 'https://shop.example.com/products/linen-shirt',
      });
      const vendors = buildVendorActivities(
        liveConfig({ klaviyo: klaviyo.url, shopify: shopify.url, gorgias: gorgias.url }),
      );
      const status = await runCart(this.test!.title, vendors);

      assert.equal(status.outcome, 'not_recovered');
      assert.deepEqual(
        klaviyo.events.map((e) => [e.properties.touch, e.properties.segment, e.properties.discount_percent]),
        [
          [1, 'premium', 0],
          [2, 'premium', 10],
          [3, 'premium', 15],
          [4, 'premium', 20],
        ],
      );
      assert.equal(new Set(klaviyo.events.map((e) => e.uniqueId)).size, 4);
      const items = klaviyo.events[0]!.properties.items as Record<string, unknown>[];
      assert.equal(items[0]!.image_url, 'https://cdn.example.com/v11.jpg', 'the image looked up in Shopify');
      assert.equal(items[0]!.product_url, 'https://shop.example.com/products/linen-shirt?variant=11');
      const codes = klaviyo.events.map((e) => e.properties.discount_code).filter(Boolean);
      assert.deepEqual(
        codes,
        shopify.discounts.map((d) => d.code),
        'each emailed code exists in Shopify',
      );
      assert.equal(shopify.discounts.length, 3);
      assert.deepEqual(
        shopify.discounts.map((d) => d.context),
        shopify.discounts.map(() => ({ customers: { add: ['gid://shopify/Customer/7'] } })),
      );
      // Each touch's code replaces the previous one, which is deactivated in Shopify.
      assert.deepEqual(
        shopify.discounts.slice(0, 2).map((d) => d.deactivated),
        [true, true],
      );
      assert.equal(gorgias.tickets.length, 1);
      assert.equal(gorgias.tickets[0]!.customer.email, 'ada@example.com');
    } finally {
      await Promise.all([klaviyo.stop(), shopify.stop(), gorgias.stop()]);
    }
  });

  it('sandbox: the outbox holds the four emails, with the codes the sandbox Shopify issued', async function () {
    const dataDir = tempDataDir();
    try {
      const status = await runCart(
        this.test!.title,
        buildVendorActivities(loadConfig({ DATA_DIR: dataDir })),
      );
      assert.equal(status.outcome, 'not_recovered');
      const { emails } = await new Outbox(dataDir).list();
      assert.deepEqual(emails.map((e) => e.touch).sort(), [1, 2, 3, 4]);
      const shop = new SandboxShopify({ dataDir });
      for (const email of emails.filter((e) => e.discountCode)) {
        assert.ok(
          await shop.findDiscountCode(email.discountCode!),
          `${email.discountCode} exists in the sandbox`,
        );
      }
      assert.equal(emails.filter((e) => e.discountCode).length, 3);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

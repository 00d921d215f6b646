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
  HOUR,
  snapshot,
} from './helpers/cart';
import { checkoutDeletedSignal } from '../src/workflows/messages';
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

/** The variant of the carts' line, in stock, with an image. */
const inStock = {
  availableForSale: true,
  inventoryQuantity: 10,
  inventoryPolicy: 'DENY',
  tracked: true,
  imageUrl: 'https://cdn.example.com/v11.jpg',
  productImageUrl: null,
  onlineStoreUrl: 'https://shop.example.com/products/linen-shirt',
} as const;

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

  async function vendorWorker(taskQueue: string, vendors: VendorActivities) {
    return Worker.create({
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
  }

  async function runCart(title: string, vendors: VendorActivities) {
    const taskQueue = uniqueId(title);
    const worker = await vendorWorker(taskQueue, vendors);
    const rig = cartRig(env, taskQueue, new FakeVendors());
    // A checkout of this test's own: a cart id, once closed, is never started again.
    const token = taskQueue;
    // The customer gate, in its cooldown, is ended after the result.
    return runThenEndWorkflows(env, worker, async () => {
      await rig.update(token, premiumCart(token, await rig.now()));
      return await rig.result(token);
    });
  }

  it('live clients against the fakes: four events, three codes (none live at the end), one ticket', async function () {
    const klaviyo = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
    const shopify = await new FakeShopify(SECRETS.shopifyToken).start();
    const gorgias = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
    try {
      shopify.customers.add('gid://shopify/Customer/7');
      shopify.variants.set('gid://shopify/ProductVariant/11', inStock);
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
      // A touch's code stays live until the next email was accepted: touch 2's is deactivated
      // in touch 4's Shopify step; the rest have run out by the end of the attribution window.
      assert.deepEqual(
        shopify.discounts.map((d) => d.deactivated),
        [true, false, false],
      );
      const end = await env.currentTimeMs();
      assert.ok(shopify.discounts.every((d) => d.deactivated || Date.parse(d.endsAt!) <= end));
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
  it('a touch retried after Klaviyo refused our key once emails its own code, still live in Shopify', async function () {
    const klaviyo = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
    const shopify = await new FakeShopify(SECRETS.shopifyToken).start();
    const gorgias = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
    try {
      shopify.customers.add('gid://shopify/Customer/7');
      shopify.variants.set('gid://shopify/ProductVariant/11', inStock);
      klaviyo.faults.add('createEvent', { status: 401 });
      const taskQueue = uniqueId(this.test!.title);
      const worker = await vendorWorker(
        taskQueue,
        buildVendorActivities(
          liveConfig({ klaviyo: klaviyo.url, shopify: shopify.url, gorgias: gorgias.url }),
        ),
      );
      const rig = cartRig(env, taskQueue, new FakeVendors());
      const token = taskQueue;
      await runThenEndWorkflows(env, worker, async () => {
        const t0 = await rig.now();
        // A welcome cart: touch 1 carries a 10 % code.
        await rig.update(token, snapshot(token, t0));
        await env.sleep(HOUR + 20 * 60_000);
        const status = await rig.status(token);
        assert.equal(
          status.touches.length,
          1,
          `the touch went out after the credentials pause: ${JSON.stringify(status)}`,
        );
        assert.equal(klaviyo.events.length, 1);
        const emailed = klaviyo.events[0]!.properties.discount_code;
        assert.equal(typeof emailed, 'string');
        const discount = shopify.discounts.find((d) => d.code === emailed);
        assert.ok(discount, 'the emailed code exists in Shopify');
        assert.equal(discount.deactivated, false, 'the emailed code is live');
        assert.equal(shopify.discounts.length, 1, 'the retry reused the code instead of minting another');
        await rig.send(token, checkoutDeletedSignal, { at: new Date(t0).toISOString() });
      });
    } finally {
      await Promise.all([klaviyo.stop(), shopify.stop(), gorgias.stop()]);
    }
  });
  it("the previous touch's code stays live until the next email is accepted, and every live code is revoked at the end", async function () {
    const klaviyo = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
    const shopify = await new FakeShopify(SECRETS.shopifyToken).start();
    const gorgias = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
    try {
      shopify.customers.add('gid://shopify/Customer/7');
      shopify.variants.set('gid://shopify/ProductVariant/11', inStock);
      const taskQueue = uniqueId(this.test!.title);
      const worker = await vendorWorker(
        taskQueue,
        buildVendorActivities(
          liveConfig({ klaviyo: klaviyo.url, shopify: shopify.url, gorgias: gorgias.url }),
        ),
      );
      const rig = cartRig(env, taskQueue, new FakeVendors());
      const token = taskQueue;
      const live = (code: unknown) => shopify.discounts.find((d) => d.code === code)?.deactivated === false;
      await runThenEndWorkflows(env, worker, async () => {
        const t0 = await rig.now();
        await rig.update(token, snapshot(token, t0));
        await env.sleep(2 * HOUR);
        assert.equal(klaviyo.events.length, 1, 'touch 1 went out');
        const first = klaviyo.events[0]!.properties.discount_code;
        // Touch 2 is prepared (its code issued), then Klaviyo refuses our key: the cart pauses.
        klaviyo.faults.add('createEvent', { status: 401 });
        await env.sleep(4 * HOUR + 10 * 60_000);
        assert.equal(klaviyo.events.length, 1, 'touch 2 is held by the credentials pause');
        assert.ok(live(first), "during the pause the customer still holds a live code (touch 1's)");
        await env.sleep(30 * 60_000);
        assert.equal(klaviyo.events.length, 2, 'touch 2 went out after the pause');
        const second = klaviyo.events[1]!.properties.discount_code;
        assert.notEqual(second, first);
        assert.ok(live(second), 'the emailed code is live');
        assert.ok(live(first), "touch 1's code is revoked only when the email after touch 2 is accepted");
        await rig.send(token, checkoutDeletedSignal, { at: new Date(t0).toISOString() });
        await rig.result(token);
        assert.ok(
          !live(first) && !live(second),
          `no code is live at the end: ${JSON.stringify(shopify.discounts)}`,
        );
      });
    } finally {
      await Promise.all([klaviyo.stop(), shopify.stop(), gorgias.stop()]);
    }
  });
});

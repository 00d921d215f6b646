/**
 * End to end: Shopify deliveries through the relay's express app into the REAL cartRecovery
 * workflow (src/workflows) on the time-skipping server, with vendor activity doubles of the
 * contract types on the vendor task queues the relay names. The relay runs with the demo policy
 * (local sandbox configuration): touches at 1, 2, 3 and 4 minutes.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { logger } from '../src/logger';
import { cartWorkflowId } from '../src/workflows/ids';
import { statusQuery, type CartRecoveryStatus } from '../src/workflows/messages';
import { taskQueues } from '../src/temporal/task-queues';
import {
  checkoutPayload,
  consentPayload,
  delivery,
  orderPayload,
  type SimCheckout,
} from '../src/simulator/shopify-webhooks';
import { cartWorker, FakeVendors, registerSearchAttributes } from './helpers/cart';
import { createTimeSkippingEnv, runThenEndWorkflows, uniqueId, workflowBundle } from './helpers/temporal';
import { newShopper, relayConfig, startRelay, type RelayHarness } from './helpers/relay';

const SHOP = 'e2e-shop.myshopify.com';
const MINUTE = 60_000;

describe('relay to the real cart workflow (end to end)', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    logger.setLevel('error');
    env = await createTimeSkippingEnv();
    await registerSearchAttributes(env);
    bundle = await workflowBundle(require.resolve('../src/workflows'));
  });
  after(async () => {
    await env?.teardown();
  });

  async function withSystem(title: string, fn: (relay: RelayHarness, vendors: FakeVendors) => Promise<void>) {
    const q = uniqueId(title);
    const config = relayConfig(q);
    const vendors = new FakeVendors();
    const queues = taskQueues(config);
    const main = await cartWorker(env, q, vendors, bundle);
    const vendorWorkers = await Promise.all(
      [queues.klaviyo, queues.klaviyoProfiles, queues.shopify, queues.gorgias].map((taskQueue) =>
        Worker.create({ connection: env.nativeConnection, taskQueue, activities: vendors.activities() }),
      ),
    );
    const running = vendorWorkers.map((w) => w.run());
    const relay = await startRelay({ client: env.client, config });
    try {
      // Carts and customer gates left open would hold back time skipping in the next test.
      await runThenEndWorkflows(env, main, () => fn(relay, vendors));
    } finally {
      await relay.close();
      for (const w of vendorWorkers) w.shutdown();
      await Promise.all(running);
    }
  }

  const handle = (c: SimCheckout) =>
    env.client.workflow.getHandle<() => Promise<CartRecoveryStatus>>(cartWorkflowId(SHOP, c.checkoutToken));
  const iso = (ms: number) => new Date(ms).toISOString();
  const checkoutUpdate = (c: SimCheckout, at: number) =>
    delivery(
      'checkouts/update',
      SHOP,
      checkoutPayload(c, { createdAt: iso(at - MINUTE), updatedAt: iso(at) }, SHOP),
      iso(at),
    );

  it('an order delivered before any checkout webhook ends the cart without a single email', async function () {
    await withSystem(this.test!.title, async (relay, vendors) => {
      const shopper = newShopper();
      const t = await env.currentTimeMs();
      const order = await relay.post(
        delivery('orders/create', SHOP, orderPayload(shopper, 9001, iso(t)), iso(t)),
      );
      assert.equal(order.body.status, 'accepted');
      assert.equal((await relay.post(checkoutUpdate(shopper, t - 30_000))).body.status, 'accepted');

      const status = await handle(shopper).result();
      assert.equal(status.order?.orderId, '9001');
      assert.equal(status.touches.length, 0);
      assert.equal(vendors.sendAttempts.length, 0);
      assert.equal(status.outcome, 'converted_before_abandonment');
    });
  });

  it('a consent withdrawal delivered during the sequence stops it after the first touch', async function () {
    await withSystem(this.test!.title, async (relay, vendors) => {
      const shopper = newShopper();
      const t = await env.currentTimeMs();
      assert.equal((await relay.post(checkoutUpdate(shopper, t))).body.status, 'accepted');
      // Demo policy: the first touch one minute after the last activity (plus up to 2 s jitter).
      await env.sleep(MINUTE + 20_000);
      const during = await handle(shopper).query(statusQuery);
      assert.equal(during.stage, 'sequence');
      assert.equal(vendors.sendAttempts.length, 1);

      const now = await env.currentTimeMs();
      const withdrawal = await relay.post(
        delivery(
          'customers_email_marketing_consent/update',
          SHOP,
          consentPayload(shopper, 'unsubscribed', iso(now)),
          iso(now),
        ),
      );
      assert.equal(withdrawal.body.status, 'accepted');
      const status = await handle(shopper).result();
      assert.equal(status.outcome, 'consent_withdrawn');
      assert.equal(vendors.sendAttempts.length, 1, 'no touch after the withdrawal');
    });
  });

  it('a customers/redact delivered during the sequence stops it after the first touch and erases the routing row', async function () {
    await withSystem(this.test!.title, async (relay, vendors) => {
      const shopper = newShopper();
      const t = await env.currentTimeMs();
      assert.equal((await relay.post(checkoutUpdate(shopper, t))).body.status, 'accepted');
      await env.sleep(MINUTE + 20_000);
      assert.equal((await handle(shopper).query(statusQuery)).stage, 'sequence');
      assert.equal(vendors.sendAttempts.length, 1);

      const now = iso(await env.currentTimeMs());
      const redact = await relay.post(
        delivery(
          'customers/redact',
          SHOP,
          {
            shop_id: 954889,
            shop_domain: SHOP,
            customer: { id: shopper.customerId, email: shopper.email, phone: null },
            orders_to_redact: [],
          },
          now,
        ),
      );
      assert.equal(redact.body.status, 'erased');
      const status = await handle(shopper).result();
      assert.equal(status.outcome, 'consent_withdrawn');
      assert.equal(vendors.sendAttempts.length, 1, 'no touch after the erasure request');
      const rows = await relay.database.query('SELECT * FROM relay_checkouts WHERE shop = $1', [SHOP]);
      assert.deepEqual(rows, []);
    });
  });

  it('an order paid through a restarted checkout stops the sequence of the abandoned one of the same cart', async function () {
    await withSystem(this.test!.title, async (relay, vendors) => {
      const abandoned = newShopper();
      const t = await env.currentTimeMs();
      assert.equal((await relay.post(checkoutUpdate(abandoned, t))).body.status, 'accepted');
      await env.sleep(MINUTE + 20_000);
      assert.equal(vendors.sendAttempts.length, 1, 'the abandoned checkout got its first touch');

      // Back through the email, the shopper starts a new checkout of the same cart and pays.
      const restarted = newShopper({
        cartToken: abandoned.cartToken,
        customerId: abandoned.customerId,
        email: abandoned.email,
      });
      const now = await env.currentTimeMs();
      assert.equal((await relay.post(checkoutUpdate(restarted, now))).body.status, 'accepted');
      const paid = await relay.post(
        delivery('orders/paid', SHOP, orderPayload(restarted, 777, iso(now)), iso(now)),
      );
      assert.deepEqual(
        (paid.body.workflows as { workflowId: string }[]).map((w) => w.workflowId).sort(),
        [cartWorkflowId(SHOP, abandoned.checkoutToken), cartWorkflowId(SHOP, restarted.checkoutToken)].sort(),
      );
      const first = await handle(abandoned).result();
      assert.equal(first.outcome, 'recovered');
      assert.equal(first.order?.orderId, '777');
      const second = await handle(restarted).result();
      assert.equal(second.outcome, 'converted_before_abandonment');
      assert.equal(vendors.sendAttempts.length, 1, 'no further touch for either checkout');
    });
  });

  it('duplicated and reordered snapshots leave the newest one in force for the email', async function () {
    await withSystem(this.test!.title, async (relay, vendors) => {
      const shopper = newShopper();
      const t = await env.currentTimeMs();
      const three = { ...shopper, lineItems: [{ ...shopper.lineItems[0]!, quantity: 3 }] };
      const newer = checkoutUpdate(three, t);
      const older = checkoutUpdate(shopper, t - 20_000);
      assert.equal((await relay.post(newer)).body.status, 'accepted');
      assert.equal((await relay.post(older)).body.status, 'accepted');
      assert.equal((await relay.post(newer)).body.status, 'duplicate');

      await env.sleep(MINUTE + 20_000);
      assert.equal(vendors.sendAttempts.length, 1);
      const email = vendors.sendAttempts[0]!;
      assert.equal(email.total, '179.70', 'the newest snapshot (3 x 59.90), not the late older one');
      assert.equal(email.checkoutToken, shopper.checkoutToken);
    });
  });
});

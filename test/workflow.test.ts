import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './helpers/temporal';
import {
  DAY,
  FakeVendors,
  HOUR,
  TEST_POLICY,
  blockUntilCancelled,
  cartRig,
  cartWorker,
  deferred,
  hoursAfter,
  registerSearchAttributes,
  snapshot,
} from './helpers/cart';
import { cartActivitySignal, consentChangedSignal, orderPlacedSignal } from '../src/workflows/messages';
import type { Segment } from '../src/workflows/policy';

describe('cartRecovery workflow', function () {
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

  it('ends without any email when the order arrives before abandonment', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await worker.runUntil(async () => {
      const t0 = await rig.now();
      await rig.update('c1', snapshot('c1', t0));
      await env.sleep(20 * 60_000);
      await rig.send('c1', orderPlacedSignal, {
        orderId: 'o-1',
        totalPrice: '60.00',
        currency: 'USD',
        checkoutToken: 'c1',
        cartToken: 'cart-c1',
        at: new Date(t0 + 20 * 60_000).toISOString(),
      });
      const status = await rig.result('c1');
      assert.equal(status.outcome, 'converted_before_abandonment');
      assert.equal(status.touches.length, 0);
      assert.equal(vendors.sendAttempts.length, 0);
      assert.equal(vendors.enrichCalls.length, 0, 'no enrichment for a cart that was never abandoned');
      const converted = vendors.metricsFor('c1').find((m) => m.kind === 'converted');
      assert.ok(converted && converted.kind === 'converted');
      assert.equal(converted.attributedTouch, null);
      assert.equal(converted.revenue, '60.00');
    });
  });

  it('sends the four touches at 1h, 6h, 24h and 72h with the discount ladder of each segment', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    // welcome: new customer, small cart; loyalty: ordered before; premium: cart >= 200 USD.
    const cases: { token: string; segment: Segment; over: Parameters<typeof snapshot>[2]; email: string }[] =
      [
        { token: 'w1', segment: 'welcome', over: {}, email: 'new@example.com' },
        { token: 'l1', segment: 'loyalty', over: {}, email: 'loyal@example.com' },
        {
          token: 'p1',
          segment: 'premium',
          over: { totalPrice: '250.00', subtotalPrice: '250.00' },
          email: 'big@example.com',
        },
      ];
    vendors.factsByEmail['loyal@example.com'] = { ordersCount: 3, lifetimeValue: '240.00' };
    await worker.runUntil(async () => {
      const t0 = await rig.now();
      for (const c of cases) await rig.update(c.token, snapshot(c.token, t0, { ...c.over, email: c.email }));
      // One result at a time: each await unlocks time skipping and locks it again after.
      const results = [];
      for (const c of cases) results.push(await rig.result(c.token));
      const ladders = { welcome: [10, 10, 15, 20], loyalty: [0, 5, 10, 15], premium: [0, 10, 15, 20] };
      for (const [i, c] of cases.entries()) {
        const status = results[i]!;
        assert.equal(status.segment, c.segment);
        assert.equal(status.outcome, 'not_recovered');
        assert.deepEqual(
          status.touches.map((t) => hoursAfter(t0, t.sentAt)),
          [1, 6, 24, 72],
          `${c.segment}: touch times in hours after the last activity`,
        );
        assert.deepEqual(
          status.touches.map((t) => t.discountPercent),
          ladders[c.segment],
        );
        const emails = vendors.sentTouches(c.token);
        assert.deepEqual(
          emails.map((e) => e.discount?.percent ?? 0),
          ladders[c.segment],
        );
        assert.deepEqual(
          emails.map((e) => e.key),
          [1, 2, 3, 4].map((n) => `test-shop.myshopify.com:${c.token}:touch-${n}:send`),
        );
        // Each new code replaced the previous one; the last is revoked only if still valid at
        // the end of the attribution window (it is not: codes last 2 days).
        const issued = [...vendors.codes.entries()].filter(([key]) => key.includes(`:${c.token}:`));
        assert.equal(issued.length, ladders[c.segment].filter((p) => p > 0).length);
        assert.equal(status.touches.length, 4);
      }
    });
  });
});

import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  createTimeSkippingEnv,
  runThenEndWorkflows,
  uniqueId,
  until,
  untilSettled,
  workflowBundle,
} from './helpers/temporal';
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
  SHOP,
  snapshot,
  lineItem,
  orderFor,
} from './helpers/cart';
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  consentChangedSignal,
  orderPlacedSignal,
  type CartRecoveryStatus,
} from '../src/workflows/messages';
import { cartWorkflowId } from '../src/workflows/ids';
import { localTime } from '../src/workflows/schedule';

import type { Segment } from '../src/workflows/policy';

describe('cartRecovery workflow', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  // One server for the file: each test ends what it left open while its worker still runs
  // (runThenEndWorkflows), so nothing holds back time skipping for the next test. Checkout
  // tokens differ between tests: a cart id, once closed, is never started again.
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
    await runThenEndWorkflows(env, worker, async () => {
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
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      for (const c of cases) await rig.update(c.token, snapshot(c.token, t0, { ...c.over, email: c.email }));
      // One result at a time: each await unlocks time skipping and locks it again after.
      const results = [];
      for (const c of cases) results.push(await rig.result(c.token));
      const ladders = { welcome: [10, 10, 15, 20], loyalty: [0, 5, 10, 15], premium: [0, 10, 15, 20] };
      for (const [i, c] of cases.entries()) {
        const status: CartRecoveryStatus = results[i]!;
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
  it('stops after touch 2 when the order arrives: no touch 3, codes revoked, conversion attributed to touch 2', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('c2', snapshot('c2', t0));
      await env.sleep(8 * HOUR);
      await rig.send('c2', orderPlacedSignal, orderFor('c2', t0 + 8 * HOUR, { totalPrice: '54.00' }));
      const status = await rig.result('c2');
      assert.equal(status.outcome, 'recovered');
      assert.deepEqual(
        status.touches.map((t) => t.touch),
        [1, 2],
      );
      assert.deepEqual(
        vendors.sentTouches('c2').map((e) => e.touch),
        [1, 2],
      );
      const codeIds = [...vendors.codes.values()].map((c) => c.id);
      assert.equal(codeIds.length, 2);
      assert.deepEqual(
        [...vendors.revoked].sort(),
        [...codeIds].sort(),
        'both codes revoked, none left usable',
      );
      const converted = vendors.metricsFor('c2').find((m) => m.kind === 'converted');
      assert.ok(converted?.kind === 'converted');
      assert.equal(converted.attributedTouch, 2);
      assert.equal(converted.revenue, '54.00');
      assert.equal(converted.currency, 'USD');
      const outcome = vendors.metricsFor('c2').find((m) => m.kind === 'outcome');
      assert.ok(outcome?.kind === 'outcome' && outcome.outcome === 'recovered');
    });
  });

  it('cancels a send still in flight when the order arrives, so no email follows the order', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    const touch2Started = deferred();
    vendors.beforeSend = async (email) => {
      if (email.touch === 2) await blockUntilCancelled(() => touch2Started.resolve());
    };
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('c3', snapshot('c3', t0));
      // Exactly to touch 2's due time: while the send runs, time skipping is held back.
      await env.sleep(6 * HOUR);
      await touch2Started.promise;
      await rig.send('c3', orderPlacedSignal, orderFor('c3', t0 + 6 * HOUR + 60_000));
      const status = await rig.result('c3');
      assert.equal(status.outcome, 'recovered');
      assert.deepEqual(
        status.touches.map((t) => t.touch),
        [1],
        'touch 2 is not recorded as sent',
      );
      assert.deepEqual(
        vendors.sentTouches('c3').map((e) => e.touch),
        [1],
        'the vendor never accepted touch 2',
      );
      // Touch 2's code was issued before the send and is revoked with the rest.
      assert.equal(vendors.revoked.length, 2);
      const converted = vendors.metricsFor('c3').find((m) => m.kind === 'converted');
      assert.ok(converted?.kind === 'converted' && converted.attributedTouch === 1);
    });
  });

  it('records a send that the vendor accepted before the cancellation reached it, without crediting it', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    const started = deferred();
    const accept = deferred();
    // A send that does not heartbeat: the cancellation cannot reach it, the email goes out.
    vendors.beforeSend = async (email) => {
      if (email.touch !== 2) return;
      started.resolve();
      await accept.promise;
    };
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('c9', snapshot('c9', t0));
      await env.sleep(6 * HOUR);
      await started.promise;
      await rig.send('c9', orderPlacedSignal, orderFor('c9', t0 + 6 * HOUR - 60_000));
      // Let the vendor accept only once the workflow has asked for the cancellation.
      const handle = rig.client.workflow.getHandle(cartWorkflowId(SHOP, 'c9'));
      await until(async () => {
        const history = await handle.fetchHistory();
        return (history.events ?? []).some((e) => e.activityTaskCancelRequestedEventAttributes);
      });
      accept.resolve();
      const status = await rig.result('c9');
      assert.deepEqual(
        status.touches.map((t) => t.touch),
        [1, 2],
        'the workflow records what really went out',
      );
      const converted = vendors.metricsFor('c9').find((m) => m.kind === 'converted');
      assert.ok(converted?.kind === 'converted');
      assert.equal(converted.attributedTouch, 1, 'the order was placed before touch 2 went out');
      assert.deepEqual(
        vendors.sentTouches('c9').map((e) => e.touch),
        [1, 2],
      );
      assert.equal(vendors.sendAttempts.length, 2, 'nothing after the order');
    });
  });

  it('keeps pushing detection back while the cart shows activity', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('c4', snapshot('c4', t0));
      for (const minutes of [50, 100, 150]) {
        await env.sleep(50 * 60_000);
        await rig.send('c4', cartActivitySignal, {
          cartToken: 'cart-c4',
          at: new Date(t0 + minutes * 60_000).toISOString(),
        });
        const status = await rig.status('c4');
        assert.equal(status.stage, 'watching', `still watching after activity at +${minutes} min`);
        assert.equal(vendors.sendAttempts.length, 0);
      }
      // Activity on another cart is not activity on this checkout.
      await rig.send('c4', cartActivitySignal, {
        cartToken: 'someone-else',
        at: new Date(t0 + 170 * 60_000).toISOString(),
      });
      await env.sleep(61 * 60_000);
      const status = await rig.status('c4');
      assert.equal(status.stage, 'sequence');
      assert.equal(hoursAfter(t0, status.lastActivityAt!), 2.5);
      assert.equal(hoursAfter(t0, status.abandonedAt!), 3.5);
      assert.equal(hoursAfter(t0, status.touches[0]!.sentAt), 3.5);
      await rig.send('c4', checkoutDeletedSignal, { at: new Date(t0 + 4 * HOUR).toISOString() });
      assert.equal((await rig.result('c4')).outcome, 'deleted');
    });
  });

  it('ignores duplicate and stale snapshots and keeps the newest when they arrive out of order', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      const newest = snapshot('c5', t0 - 5 * 60_000, { totalPrice: '80.00', subtotalPrice: '80.00' });
      const older = snapshot('c5', t0 - 10 * 60_000, { totalPrice: '999.00', subtotalPrice: '999.00' });
      await rig.update('c5', newest);
      await rig.update('c5', older); // delivered late: must not overwrite
      await rig.update('c5', newest); // duplicate delivery
      await rig.update('c5', snapshot('c5', t0 - 5 * 60_000, { totalPrice: '1.00' })); // same updated_at: a duplicate
      await rig.update('c5', { ...newest, token: 'another-checkout' }); // not this checkout's
      const status = await rig.status('c5');
      assert.equal(status.lastActivityAt, newest.updatedAt);
      await env.sleep(56 * 60_000);
      const after = await rig.status('c5');
      assert.equal(after.touches.length, 1);
      assert.equal(vendors.sentTouches('c5')[0]!.total, '80.00');
      assert.equal(after.segment, 'welcome', 'the stale 999.00 snapshot would have made it premium');
      await rig.send('c5', orderPlacedSignal, orderFor('c5', t0 + HOUR, { totalPrice: '80.00' }));
      await rig.send(
        'c5',
        orderPlacedSignal,
        orderFor('c5', t0 + HOUR, { orderId: 'dup', totalPrice: '1.00' }),
      );
      const done = await rig.result('c5');
      assert.equal(
        done.order?.orderId,
        'order-c5',
        'the first order wins; a second delivery changes nothing',
      );
    });
  });

  it('keeps an order that arrives before any checkout snapshot and applies it', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.send('c6', orderPlacedSignal, orderFor('c6', t0));
      const late = await rig.client.workflow.getHandle(cartWorkflowId(SHOP, 'c6')).result();
      assert.equal((late as { outcome: string }).outcome, 'converted_before_abandonment');
      assert.equal(vendors.sendAttempts.length, 0);
    });
  });

  it('applies a consent withdrawal that arrived before the checkout started the workflow', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.send('c7', consentChangedSignal, {
        customerId: 'gid://shopify/Customer/7',
        email: null,
        state: 'unsubscribed',
        at: new Date(t0).toISOString(),
      });
      await rig.update('c7', snapshot('c7', t0 - 60_000, { acceptsMarketing: true }));
      const status = await rig.result('c7');
      assert.equal(status.outcome, 'no_consent');
      assert.equal(vendors.sendAttempts.length, 0);
    });
  });

  it('stops the sequence when consent is withdrawn mid-sequence and revokes the live code', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('c8', snapshot('c8', t0));
      await env.sleep(2 * HOUR);
      await rig.send('c8', consentChangedSignal, {
        customerId: null,
        email: 'ADA@example.com',
        state: 'unsubscribed',
        at: new Date(t0 + 2 * HOUR).toISOString(),
      });
      const status = await rig.result('c8');
      assert.equal(status.outcome, 'consent_withdrawn');
      assert.equal(status.touches.length, 1);
      assert.equal(vendors.sendAttempts.length, 1);
      assert.deepEqual(vendors.revoked, [[...vendors.codes.values()][0]!.id]);
    });
  });

  it('lets one sequence run per customer and none within the cooldown after it ends', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    const same = { email: 'Grace@Example.com' };
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('a', snapshot('a', t0, same));
      await env.sleep(2 * HOUR);
      await rig.update('b', snapshot('b', t0 + 2 * HOUR, { ...same, email: 'grace@example.com' }));
      // Statuses, not results: a capped cart stays open for a late order (next test), and a
      // result would let time run on to whichever timer comes next.
      await env.sleep(2 * HOUR);
      assert.equal(
        (await rig.status('b')).outcome,
        'frequency_capped',
        'a second sequence while the first runs',
      );
      // A's last touch goes out at 72 h; the cooldown (7 days) runs from there.
      await env.sleep(96 * HOUR - 4 * HOUR);
      assert.equal((await rig.status('a')).touches.length, 4);
      const t1 = await rig.now();
      await rig.update('c', snapshot('c', t1, same));
      await env.sleep(2 * HOUR);
      assert.equal((await rig.status('c')).outcome, 'frequency_capped', 'within the cooldown');
      await env.sleep(7 * DAY);
      const t2 = await rig.now();
      await rig.update('d', snapshot('d', t2, same));
      await env.sleep(HOUR + 60_000);
      assert.equal((await rig.status('d')).touches.length, 1, 'after the cooldown a new sequence starts');
      assert.equal(vendors.sentTouches('b').length + vendors.sentTouches('c').length, 0);
      await rig.send('d', orderPlacedSignal, orderFor('d', t2 + 2 * HOUR));
      assert.equal((await rig.result('d')).outcome, 'recovered');
    });
  });

  it('counts a late order of a capped cart as a conversion, and closes one without an order after the window', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    const same = { email: 'ada@example.com' };
    const tokens = ['fc1', 'fc2', 'fc3'];
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      for (const token of tokens) await rig.update(token, snapshot(token, t0, same));
      await env.sleep(2 * HOUR);
      // One of the three holds the customer's sequence; which one is up to the server.
      const statuses = await Promise.all(tokens.map((token) => rig.status(token)));
      const capped = statuses.filter((s) => s.outcome === 'frequency_capped').map((s) => s.checkoutToken);
      assert.equal(capped.length, 2, `outcomes: ${statuses.map((s) => s.outcome).join(', ')}`);
      const [lateBuyer, neverBuys] = capped as [string, string];

      // A day later the capped cart is ordered: a conversion, credited to no touch.
      await rig.send(lateBuyer, orderPlacedSignal, orderFor(lateBuyer, t0 + DAY, { totalPrice: '75.00' }));
      const bought = await rig.result(lateBuyer);
      assert.equal(bought.outcome, 'frequency_capped', 'the outcome still says why no email went out');
      assert.equal(bought.order?.orderId, `order-${lateBuyer}`);
      const converted = vendors.metricsFor(lateBuyer).find((m) => m.kind === 'converted');
      assert.ok(converted && converted.kind === 'converted', 'the order is counted');
      assert.equal(converted.revenue, '75.00');
      assert.equal(converted.attributedTouch, null);

      // Without an order, the capped cart closes when its attribution window does, uncounted.
      const unbought = await rig.result(neverBuys);
      assert.equal(unbought.outcome, 'frequency_capped');
      assert.equal(unbought.order, null);
      const closed = vendors.metricsFor(neverBuys).find((m) => m.kind === 'outcome');
      assert.ok(closed && closed.kind === 'outcome');
      assert.ok(
        Date.parse(closed.at) >= Date.parse(unbought.abandonedAt!) + rig.policy.attributionWindowMs,
        `closed ${closed.at}, abandoned ${unbought.abandonedAt}`,
      );
      assert.equal(vendors.metricsFor(neverBuys).filter((m) => m.kind === 'converted').length, 0);
      assert.equal(vendors.sentTouches(lateBuyer).length + vendors.sentTouches(neverBuys).length, 0);
    });
  });

  it('creates exactly one support ticket for a high-value cart, even when the call is retried', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.ticketFailuresLeft = 2;
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('t1', snapshot('t1', t0, { totalPrice: '320.00', subtotalPrice: '320.00' }));
      await env.sleep(2 * HOUR);
      // The customer comes back and leaves again: detection restarts, but not the ticket.
      await rig.send('t1', cartActivitySignal, {
        cartToken: 'cart-t1',
        at: new Date(t0 + 2 * HOUR).toISOString(),
      });
      await env.sleep(2 * HOUR);
      await rig.send('t1', orderPlacedSignal, orderFor('t1', t0 + 4 * HOUR, { totalPrice: '320.00' }));
      const status = await rig.result('t1');
      assert.equal(vendors.ticketAttempts.length, 3, 'two failed attempts and one success');
      assert.deepEqual(
        new Set(vendors.ticketAttempts.map((a) => a.key)),
        new Set(['test-shop.myshopify.com:t1:ticket']),
      );
      assert.equal(vendors.tickets.size, 1);
      assert.equal(status.ticketId, 'ticket-1');
      const ticket = vendors.ticketAttempts[0]!;
      assert.equal(ticket.segment, 'premium');
      assert.equal(ticket.checkout.totalPrice, '320.00');
      assert.ok(ticket.checkout.restoreUrl);
      assert.equal(vendors.metricsFor('t1').filter((m) => m.kind === 'ticket_created').length, 1);
    });
  });

  it('moves a touch that falls in quiet hours to 08:00 in the customer zone, else the shop zone', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.factsByEmail['paris@example.com'] = { timezone: 'Europe/Paris' };
    vendors.factsByEmail['nozone@example.com'] = { timezone: null };
    const policy = { ...TEST_POLICY, quietHours: { startHour: 21, endHour: 8 }, shopTimezone: 'Asia/Tokyo' };
    const rig = cartRig(env, q, vendors, policy);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      // Go to the next 22:00 in Paris, so abandonment (+1 h) lands at 23:00 Paris.
      let now = await rig.now();
      let skip = 0;
      while (localTime(now + skip, 'Europe/Paris').hour !== 22) skip += 15 * 60_000;
      await env.sleep(skip);
      now = await rig.now();
      await rig.update('q1', snapshot('q1', now, { email: 'paris@example.com' }));
      await rig.update('q2', snapshot('q2', now, { email: 'nozone@example.com' }));
      await env.sleep(12 * HOUR);
      const paris = await rig.status('q1');
      const tokyo = await rig.status('q2');
      const parisSent = localTime(Date.parse(paris.touches[0]!.sentAt), 'Europe/Paris');
      assert.equal(parisSent.hour, 8, 'Paris customer: 08:00 Paris');
      assert.ok(hoursAfter(now, paris.touches[0]!.sentAt) > 8, 'held back from 23:00 to 08:00');
      const tokyoSent = localTime(Date.parse(tokyo.touches[0]!.sentAt), 'Asia/Tokyo');
      assert.equal(tokyoSent.hour, 8, 'no customer zone: the shop zone (Tokyo) decides');
      for (const token of ['q1', 'q2'])
        await rig.send(token, checkoutDeletedSignal, { at: new Date(now).toISOString() });
    });
  });

  it('leaves out unavailable items and stops when nothing is left in stock', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    const twoLines = [
      lineItem(),
      lineItem({ key: 'line-2', title: 'Wool scarf', variantId: 'gid://shopify/ProductVariant/22' }),
    ];
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      vendors.unavailableLines = new Set(['line-2']);
      await rig.update('s1', snapshot('s1', t0, { lineItems: twoLines }));
      await env.sleep(HOUR + 60_000);
      assert.deepEqual(
        vendors.sentTouches('s1')[0]!.items.map((i) => i.title),
        ['Linen shirt'],
      );
      vendors.unavailableLines = new Set(['line-1', 'line-2']);
      const status = await rig.result('s1');
      assert.equal(status.outcome, 'out_of_stock');
      assert.equal(status.touches.length, 1);
      assert.equal(vendors.codes.size, 1, 'no code is issued for a touch that cannot go out');
      assert.equal(vendors.revoked.length, 1, 'the code of touch 1 is revoked');
    });
  });

  it('tracks a control-group cart like the others but never emails it', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors, { ...TEST_POLICY, controlGroupPercent: 100 });
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('g1', snapshot('g1', t0, { email: 'g1@example.com' }));
      await rig.update('g2', snapshot('g2', t0, { email: 'g2@example.com' }));
      await env.sleep(7 * HOUR);
      await rig.send('g2', orderPlacedSignal, orderFor('g2', t0 + 7 * HOUR));
      const g1 = await rig.result('g1');
      const g2 = await rig.result('g2');
      assert.equal(g1.outcome, 'control_group_not_recovered');
      assert.equal(g1.controlGroup, true);
      assert.deepEqual(
        g1.touches.map((t) => [hoursAfter(t0, t.sentAt), t.suppressed]),
        [
          [1, true],
          [6, true],
          [24, true],
          [72, true],
        ],
      );
      assert.equal(g2.outcome, 'control_group_recovered');
      assert.equal(vendors.sendAttempts.length + vendors.codes.size + vendors.ticketAttempts.length, 0);
      const abandoned = vendors.metricsFor('g1').find((m) => m.kind === 'abandoned');
      assert.ok(abandoned?.kind === 'abandoned' && abandoned.controlGroup);
      const converted = vendors.metricsFor('g2').find((m) => m.kind === 'converted');
      assert.ok(converted?.kind === 'converted' && converted.controlGroup && converted.attributedTouch === 2);
      assert.equal(vendors.metrics.filter((m) => m.kind === 'touch_sent').length, 0);
    });
  });

  it('continues as new on a long history without losing state or signals', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors, { ...TEST_POLICY, continueAsNewAfterEvents: 100 });
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      for (let i = 0; i < 40; i++) {
        await rig.update(
          'n1',
          snapshot('n1', t0 - 40 * 60_000 + i * 60_000, { totalPrice: `${100 + i}.00` }),
        );
      }
      const handle = rig.client.workflow.getHandle(cartWorkflowId(SHOP, 'n1'));
      const status = await rig.status('n1');
      assert.equal(
        status.lastActivityAt,
        new Date(t0 - 60_000).toISOString(),
        'the last of 40 snapshots is kept',
      );
      const done = await rig.result('n1');
      const description = await handle.describe();
      assert.notEqual(
        description.runId,
        description.raw.workflowExecutionInfo?.firstRunId,
        'continued as new',
      );
      assert.equal(done.outcome, 'not_recovered');
      assert.deepEqual(
        done.touches.map((t) => t.touch),
        [1, 2, 3, 4],
      );
      const sends = vendors.sendAttempts.map((e) => e.key);
      assert.equal(new Set(sends).size, 4, 'no touch sent twice across runs');
      assert.equal(vendors.sentTouches('n1')[0]!.total, '139.00');
      assert.equal(vendors.metricsFor('n1').filter((m) => m.kind === 'abandoned').length, 1);
    });
  });

  it('lets a new worker take over mid-sequence without sending anything twice', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const touch2 = deferred();
    vendors.onSent = (email) => {
      if (email.touch === 2) touch2.resolve();
    };
    // No workflow cache: nothing is sticky to the first worker, and every task of it replays the
    // history from the start (the test server does not hand a dead worker's sticky queue over).
    const first = await cartWorker(env, q, vendors, bundle, { maxCachedWorkflows: 0 });
    const t0 = await rig.now();
    await first.runUntil(async () => {
      await rig.update('ho1', snapshot('ho1', t0));
      await env.sleep(6 * HOUR);
      await touch2.promise;
      // Stopped between tasks, not inside one: a task the first worker took and never finished
      // would wait out its 10 s timeout (real time, time skipping held) before the hand-over.
      await untilSettled(env, cartWorkflowId(SHOP, 'ho1'));
    });
    const second = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, second, async () => {
      const status = await rig.result('ho1');
      assert.equal(status.outcome, 'not_recovered');
      // To the hour: the first worker keeps no cache and replays every task from the start; on
      // a loaded machine a task can miss its 10 s timeout and run again, in real time, while
      // time skipping waits for it.
      assert.deepEqual(
        status.touches.map((t) => Math.round(hoursAfter(t0, t.sentAt))),
        [1, 6, 24, 72],
      );
    });
    const keys = vendors.sendAttempts.map((e) => e.key);
    assert.equal(keys.length, 4, `send attempts: ${keys.join(', ')}`);
    assert.equal(new Set(keys).size, 4);
    assert.equal(vendors.enrichCalls.length, 1);
  });

  it('turns a vendor refusal of the recipient into an outcome instead of a failed workflow', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.invalidRecipients.add('bounce@example.com');
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('v1', snapshot('v1', t0, { email: 'bounce@example.com' }));
      const status = await rig.result('v1');
      assert.equal(status.outcome, 'invalid_email');
      assert.equal(vendors.sendAttempts.length, 1, 'a permanent refusal is not retried');
      assert.equal(vendors.revoked.length, 1, 'the code issued for the refused email is revoked');
    });
  });

  it('never emails a suppressed profile or a customer without consent', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.factsByEmail['suppressed@example.com'] = { suppressed: true, consent: 'SUBSCRIBED' };
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('e1', snapshot('e1', t0, { email: 'suppressed@example.com' }));
      await rig.update('e2', snapshot('e2', t0, { email: 'quiet@example.com', acceptsMarketing: false }));
      assert.equal((await rig.result('e1')).outcome, 'suppressed');
      assert.equal((await rig.result('e2')).outcome, 'no_consent');
      assert.equal(vendors.sendAttempts.length, 0);
    });
  });
  it('spreads timers with a bounded jitter so that many carts do not wake at once', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const jitter = 5 * 60_000;
    const rig = cartRig(env, q, vendors, { ...TEST_POLICY, timerJitterMs: jitter });
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      const tokens = ['j1', 'j2', 'j3'];
      for (const token of tokens)
        await rig.update(token, snapshot(token, t0, { email: `${token}@example.com` }));
      await env.sleep(6 * HOUR + jitter + 60_000);
      const offsets: number[] = [];
      for (const token of tokens) {
        const status = await rig.status(token);
        assert.equal(status.touches.length, 2);
        for (const [i, touch] of status.touches.entries()) {
          const offset = Date.parse(touch.sentAt) - t0 - [HOUR, 6 * HOUR][i]!;
          assert.ok(
            offset >= 0 && offset <= jitter + 1_000,
            `${token} touch ${touch.touch}: ${offset} ms late`,
          );
          offsets.push(Math.round(offset / 1000));
        }
        await rig.send(token, checkoutDeletedSignal, { at: new Date(t0).toISOString() });
      }
      assert.ok(new Set(offsets).size > 1, `timers are spread: ${offsets.join(', ')} s`);
    });
  });

  it('hands a high-value cart to support even when the customer cannot be emailed', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('h1', snapshot('h1', t0, { totalPrice: '450.00', acceptsMarketing: false }));
      const status = await rig.result('h1');
      assert.equal(status.outcome, 'no_consent');
      assert.equal(status.ticketId, 'ticket-1');
      assert.equal(vendors.sendAttempts.length, 0);
    });
  });
  it('ends with the reason and no email when the checkout is deleted before abandonment', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('x1', snapshot('x1', t0));
      await env.sleep(30 * 60_000);
      await rig.send('x1', checkoutDeletedSignal, { at: new Date(t0 + 30 * 60_000).toISOString() });
      const status = await rig.result('x1');
      assert.equal(status.outcome, 'deleted');
      assert.equal(vendors.sendAttempts.length + vendors.enrichCalls.length, 0);
    });
  });

  it('treats completed_at as a conversion and takes the revenue from the order that follows', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('k1', snapshot('k1', t0));
      await rig.update(
        'k1',
        snapshot('k1', t0 + 60_000, { completedAt: new Date(t0 + 60_000).toISOString() }),
      );
      await env.sleep(5 * 60_000);
      assert.equal((await rig.status('k1')).outcome, null, 'waiting for the order webhook');
      await rig.send('k1', orderPlacedSignal, orderFor('k1', t0 + 60_000, { totalPrice: '61.50' }));
      const status = await rig.result('k1');
      assert.equal(status.outcome, 'converted_before_abandonment');
      const converted = vendors.metricsFor('k1').find((m) => m.kind === 'converted');
      assert.ok(converted?.kind === 'converted' && converted.revenue === '61.50');
      // Without an order webhook, the completed checkout is the conversion.
      await rig.update('k2', snapshot('k2', t0, { completedAt: new Date(t0).toISOString() }));
      assert.equal((await rig.result('k2')).outcome, 'completed_at_checkout');
      const fallback = vendors.metricsFor('k2').find((m) => m.kind === 'converted');
      assert.ok(
        fallback?.kind === 'converted' && fallback.orderId === 'checkout:k2' && fallback.revenue === '60.00',
      );
      assert.equal(vendors.sendAttempts.length, 0);
    });
  });

  it('waits for an email address before counting a checkout as recoverable', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('m1', snapshot('m1', t0, { email: null }));
      await env.sleep(2 * HOUR);
      assert.equal((await rig.status('m1')).stage, 'watching');
      assert.equal(vendors.enrichCalls.length, 0);
      await rig.update('m1', snapshot('m1', t0 + 2 * HOUR));
      await env.sleep(HOUR + 60_000);
      const status = await rig.status('m1');
      assert.equal(hoursAfter(t0, status.touches[0]!.sentAt), 3, 'abandoned an hour after the email came');
      await rig.update('m2', snapshot('m2', t0 + 3 * HOUR, { email: null }));
      assert.equal((await rig.result('m2')).outcome, 'no_email', 'no email within the attribution window');
      await rig.send('m1', checkoutDeletedSignal, { at: new Date(t0).toISOString() });
    });
  });

  it('pauses instead of failing when a vendor rejects our credentials, then carries on', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.credentialFailuresLeft = 1;
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('r1', snapshot('r1', t0));
      await env.sleep(HOUR + 20 * 60_000);
      const status = await rig.status('r1');
      assert.equal(status.touches.length, 1);
      assert.equal(hoursAfter(t0, status.touches[0]!.sentAt), 1.25, 'sent after the 15-minute pause');
      assert.equal(vendors.sendAttempts.length, 2);
      assert.equal(vendors.codes.size, 1, 'the retried touch reuses its code (same business key)');
      await rig.send('r1', checkoutDeletedSignal, { at: new Date(t0).toISOString() });
    });
  });
});

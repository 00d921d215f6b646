/**
 * Shopify's mandatory compliance webhooks through the real relay and the real time-skipping
 * Temporal server: erasures stop the customer's (or shop's) open carts, then remove what the
 * relay and the metrics store hold; data requests are kept for the merchant to answer.
 */
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { RelayStore } from '../src/relay/store';
import { openDatabase, type Database } from '../src/db';
import { logger } from '../src/logger';
import { customerDataCommand, type CustomerData } from '../src/cli/customer-data';
import { openMetricsStore } from '../src/metrics/store';
import { cartWorkflowId } from '../src/workflows/ids';
import { checkoutPayload, delivery, type SimCheckout } from '../src/simulator/shopify-webhooks';
import { cartEvents } from './helpers/metric-events';
import { newShopper, relayConfig, startRelay, TEST_LINK_SIGNER, type RelayHarness } from './helpers/relay';
import { checkoutUpdate, relaySuite, SHOP, signalNames, T0, T1, T2 } from './helpers/relay-suite';
import { uniqueId, workflowBundle } from './helpers/temporal';

describe('Shopify compliance webhooks (customers/redact, shop/redact, customers/data_request)', function () {
  const suite = relaySuite();
  const { withRelay, recorded } = suite;
  const names = signalNames;
  const OTHER_SHOP = 'other-shop.myshopify.com';
  const customerOf = (c: SimCheckout) => ({ id: c.customerId, email: c.email, phone: null });
  const redactCustomer = (c: SimCheckout, ordersToRedact: (string | number)[] = [450789469]) =>
    delivery(
      'customers/redact',
      SHOP,
      { shop_id: 954889, shop_domain: SHOP, customer: customerOf(c), orders_to_redact: ordersToRedact },
      T1,
    );
  const redactShop = (shop = SHOP) =>
    delivery('shop/redact', shop, { shop_id: 954889, shop_domain: shop }, T2);
  const dataRequest = (c: SimCheckout, id: number | string) =>
    delivery(
      'customers/data_request',
      SHOP,
      {
        shop_id: 954889,
        shop_domain: SHOP,
        orders_requested: [299938, 280263],
        customer: customerOf(c),
        data_request: { id },
      },
      T1,
    );
  /** A genuine delivery about `c` the relay could not use: its body names the customer. */
  const brokenUpdateOf = (c: SimCheckout, shop = SHOP) => ({
    ...delivery('checkouts/update', shop, {}, T0),
    body: JSON.stringify({ ...checkoutPayload(c, { createdAt: T0, updatedAt: T0 }, shop), token: '' }),
  });
  const touchLink = (c: SimCheckout, shop = SHOP) => ({
    shop,
    checkoutToken: c.checkoutToken,
    touch: 1,
    restoreUrl: `https://${shop}/checkouts/${c.checkoutToken}/recover`,
    recipientHash: TEST_LINK_SIGNER.recipientHash(c.email!),
    at: T1,
  });
  const checkoutRows = (relay: RelayHarness, shop = SHOP) =>
    relay.database.query<{ checkout_token: string }>(
      'SELECT checkout_token FROM relay_checkouts WHERE shop = $1 ORDER BY checkout_token',
      [shop],
    );

  it("customers/redact stops every open cart of the customer with a 'redacted' consent and erases their rows, once", async function () {
    await withRelay(this.test!.title, async (relay) => {
      const metrics = await openMetricsStore(relay.database, { timeZone: relay.config.metrics.timeZone });
      const shopper = newShopper();
      const secondCart = newShopper({ customerId: shopper.customerId, email: shopper.email });
      const someoneElse = newShopper();
      for (const c of [shopper, secondCart, someoneElse]) await relay.post(checkoutUpdate(c));
      for (const c of [shopper, someoneElse]) {
        assert.equal((await relay.post(brokenUpdateOf(c))).body.status, 'dead_letter');
        await metrics.registerLink(touchLink(c));
      }
      // A converted cart of the customer: its order id is named in orders_to_redact.
      for (const event of cartEvents({
        shop: SHOP,
        token: shopper.checkoutToken,
        abandonedAt: T0,
        touches: 1,
        order: { revenue: '119.80', at: T2, touch: 1 },
      }))
        await metrics.record(event);

      const redact = redactCustomer(shopper, [`order-${shopper.checkoutToken}`]);
      const answer = await relay.post(redact);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'erased');
      assert.deepEqual(answer.body.erased, {
        checkouts: 2,
        deadLetters: 1,
        dataRequests: 0,
        deliveries: 0,
        metrics: 3, // the touch link, the cart's order id and the converted fact's
      });
      for (const c of [shopper, secondCart]) {
        assert.deepEqual((await recorded(c, 2)).signals[1], {
          name: 'consentChanged',
          payload: {
            customerId: String(shopper.customerId),
            email: shopper.email,
            state: 'redacted',
            at: T1,
          },
        });
      }
      assert.deepEqual(names(await recorded(someoneElse)), ['checkoutUpdated']);
      // The routing index, dead letters and touch links keep only the other customer.
      assert.deepEqual(
        (await checkoutRows(relay)).map((r) => r.checkout_token),
        [someoneElse.checkoutToken],
      );
      const letters = await new RelayStore(relay.database).listDeadLetters({ pendingOnly: true });
      assert.deepEqual(
        letters.map((l) => l.rawBody.toString('utf8').includes(someoneElse.email!)),
        [true],
      );
      assert.deepEqual(await metrics.findLink(touchLink(shopper)), {
        ...touchLink(shopper),
        restoreUrl: '',
        recipientHash: null,
      });
      assert.equal(
        (await metrics.findLink(touchLink(someoneElse)))?.recipientHash,
        touchLink(someoneElse).recipientHash,
      );

      // A repeat of the delivery, and a second request for the same customer, change nothing more.
      assert.equal((await relay.post(redact)).body.status, 'duplicate');
      const again = await relay.post(redactCustomer(shopper, [`order-${shopper.checkoutToken}`]));
      assert.equal(again.body.status, 'erased');
      assert.deepEqual(again.body.workflows, []);
      assert.deepEqual(again.body.erased, {
        checkouts: 0,
        deadLetters: 0,
        dataRequests: 0,
        deliveries: 0,
        metrics: 0,
      });
      assert.equal((await recorded(shopper, 2)).signals.length, 2);
    });
  });

  it('shop/redact ends the open carts of the shop and erases every row the app keeps for it, no other shop', async function () {
    await withRelay(this.test!.title, async (relay) => {
      const metrics = await openMetricsStore(relay.database, { timeZone: relay.config.metrics.timeZone });
      const shopper = newShopper();
      const elsewhere = newShopper();
      assert.equal((await relay.post(checkoutUpdate(shopper))).body.status, 'accepted');
      assert.equal((await relay.post(checkoutUpdate(elsewhere, T0, OTHER_SHOP))).body.status, 'accepted');
      await relay.post(brokenUpdateOf(shopper));
      await relay.post(brokenUpdateOf(elsewhere, OTHER_SHOP));
      await relay.post(dataRequest(shopper, 9001));
      await metrics.registerLink(touchLink(shopper));
      await metrics.registerLink(touchLink(elsewhere, OTHER_SHOP));

      const redact = redactShop();
      const answer = await relay.post(redact);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'erased');
      assert.deepEqual(answer.body.workflows, [
        { workflowId: cartWorkflowId(SHOP, shopper.checkoutToken), accepted: true },
      ]);
      assert.deepEqual(names(await recorded(shopper, 2)), ['checkoutUpdated', 'checkoutDeleted']);
      assert.deepEqual(names(await recorded(elsewhere, 1, OTHER_SHOP)), ['checkoutUpdated']);

      const rowsOf = async (shop: string) => {
        const count = async (table: string) =>
          Number(
            (
              await relay.database.query<{ n: number }>(
                `SELECT COUNT(*) AS n FROM ${table} WHERE shop = $1`,
                [shop],
              )
            )[0]!.n,
          );
        return {
          checkouts: await count('relay_checkouts'),
          deadLetters: await count('relay_dead_letters'),
          dataRequests: await count('relay_data_requests'),
          deliveries: await count('relay_deliveries'),
          touchLinks: await count('metric_touch_links'),
        };
      };
      // Only the shop/redact delivery itself stays, so that its retry is a duplicate.
      assert.deepEqual(await rowsOf(SHOP), {
        checkouts: 0,
        deadLetters: 0,
        dataRequests: 0,
        deliveries: 1,
        touchLinks: 0,
      });
      assert.deepEqual(await rowsOf(OTHER_SHOP), {
        checkouts: 1,
        deadLetters: 1,
        dataRequests: 0,
        deliveries: 2,
        touchLinks: 1,
      });
      assert.equal((await relay.post(redact)).body.status, 'duplicate');
    });
  });

  it('records a customer data request without logging the email, and customer-data prints what the app holds', async function () {
    await withRelay(this.test!.title, async (relay) => {
      const metrics = await openMetricsStore(relay.database, { timeZone: relay.config.metrics.timeZone });
      const shopper = newShopper();
      const guestCart = newShopper({ customerId: null, email: shopper.email });
      const someoneElse = newShopper();
      for (const c of [shopper, guestCart, someoneElse]) await relay.post(checkoutUpdate(c));
      await metrics.registerLink(touchLink(shopper));

      const lines: string[] = [];
      const original = process.stdout.write.bind(process.stdout);
      process.stdout.write = (chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      };
      logger.setLevel('info');
      let answer;
      try {
        answer = await relay.post(dataRequest(shopper, 'dr-1'));
      } finally {
        process.stdout.write = original;
        logger.setLevel('error');
      }
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { status: 'recorded', dataRequestId: 'dr-1' });
      const logged = lines.filter((l) => l.includes('data request recorded'));
      assert.equal(logged.length, 1);
      assert.match(logged[0]!, /"dataRequestId":"dr-1"/);
      assert.doesNotMatch(logged[0]!, /@example\.com|shopper-\d+@/);
      assert.equal((await relay.post(dataRequest(shopper, 'dr-1'))).body.status, 'recorded');

      const out: string[] = [];
      const code = await customerDataCommand(
        [
          '--shop',
          SHOP.toUpperCase(),
          '--email',
          shopper.email!,
          '--customer-id',
          String(shopper.customerId),
        ],
        {
          database: relay.database,
          signer: TEST_LINK_SIGNER,
          metricsTimeZone: relay.config.metrics.timeZone,
          out: (l) => out.push(l),
        },
      );
      assert.equal(code, 0);
      const data = JSON.parse(out.join('\n')) as CustomerData;
      assert.equal(data.shop, SHOP);
      assert.deepEqual(
        data.checkouts.map((c) => c.checkoutToken).sort(),
        [shopper.checkoutToken, guestCart.checkoutToken].sort(),
      );
      assert.deepEqual(
        data.openWorkflowIds.sort(),
        [cartWorkflowId(SHOP, shopper.checkoutToken), cartWorkflowId(SHOP, guestCart.checkoutToken)].sort(),
      );
      assert.deepEqual(
        data.touchLinks.map((l) => [l.checkoutToken, l.touch, l.restoreUrl]),
        [[shopper.checkoutToken, 1, touchLink(shopper).restoreUrl]],
      );
      assert.deepEqual(
        data.dataRequests.map((r) => [r.dataRequestId, r.customerId, r.ordersRequested]),
        [['dr-1', String(shopper.customerId), ['299938', '280263']]],
      );
      assert.equal(
        await customerDataCommand(['--shop', SHOP], {
          database: relay.database,
          signer: TEST_LINK_SIGNER,
          metricsTimeZone: relay.config.metrics.timeZone,
          out: (l) => out.push(l),
        }),
        64,
      );
    });
  });

  it('refuses a compliance webhook with a wrong signature (401) and erases nothing', async function () {
    await withRelay(this.test!.title, async (relay) => {
      const shopper = newShopper();
      await relay.post(checkoutUpdate(shopper));
      const forged = await relay.post(redactCustomer(shopper), 'shpss_not_our_secret');
      assert.equal(forged.status, 401);
      assert.equal((await checkoutRows(relay)).length, 1);
      assert.deepEqual(names(await recorded(shopper)), ['checkoutUpdated']);
      assert.equal((await relay.post(redactShop(), 'shpss_not_our_secret')).status, 401);
      assert.equal((await checkoutRows(relay)).length, 1);
    });
  });

  it('keeps a compliance payload it cannot use as a dead letter with the reason', async function () {
    await withRelay(this.test!.title, async (relay) => {
      const nobody = delivery(
        'customers/redact',
        SHOP,
        { shop_id: 1, shop_domain: SHOP, customer: { id: null, email: null, phone: '+15551234' } },
        T1,
      );
      const otherShop = delivery('shop/redact', SHOP, { shop_id: 1, shop_domain: OTHER_SHOP }, T1);
      const noRequestId = { ...dataRequest(newShopper(), 1), webhookId: 'dr-without-id' };
      noRequestId.body = JSON.stringify({ ...JSON.parse(noRequestId.body), data_request: {} });
      const answers = [await relay.post(nobody), await relay.post(otherShop), await relay.post(noRequestId)];
      assert.deepEqual(
        answers.map((a) => [a.status, a.body.status, a.body.reason]),
        [
          [
            200,
            'dead_letter',
            'invalid customers/redact payload: customer: expected the customer "id" or "email"',
          ],
          [200, 'dead_letter', 'shop_domain in the payload differs from X-Shopify-Shop-Domain'],
          [200, 'dead_letter', 'invalid customers/data_request payload: data_request.id: Invalid input'],
        ],
      );
    });
  });

  it('answers 503 when the erasure cannot be written, and the retry erases', async function () {
    const inner = await openDatabase({ sqliteFile: ':memory:' });
    let failing = false;
    const failDeletes = (db: Database): Database => ({
      kind: db.kind,
      query: (sql, params) => db.query(sql, params),
      run: (sql, params) =>
        failing && sql.trimStart().startsWith('DELETE FROM relay_checkouts')
          ? Promise.reject(new Error('disk I/O error'))
          : db.run(sql, params),
      transaction: (fn) => db.transaction((tx) => fn(failDeletes(tx))),
      close: () => db.close(),
    });
    const taskQueue = uniqueId(this.test!.title);
    const worker = await Worker.create({
      connection: suite.env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows/recorder')),
    });
    const relay = await startRelay({
      client: suite.env.client,
      config: relayConfig(taskQueue),
      database: failDeletes(inner),
    });
    try {
      await worker.runUntil(async () => {
        const shopper = newShopper();
        await relay.post(checkoutUpdate(shopper));
        const redact = redactCustomer(shopper);
        failing = true;
        const failed = await relay.post(redact);
        assert.equal(failed.status, 503);
        assert.equal(await new RelayStore(inner).deliveryOutcome(redact.webhookId), undefined);
        assert.equal((await checkoutRows(relay)).length, 1, 'nothing erased, nothing recorded');
        failing = false;
        const retried = await relay.post(redact);
        assert.equal(retried.status, 200);
        assert.equal(retried.body.status, 'erased');
        assert.equal((await checkoutRows(relay)).length, 0);
      });
    } finally {
      await relay.close();
      await inner.close();
    }
  });
});

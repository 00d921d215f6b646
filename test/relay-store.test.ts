/**
 * The relay's bookkeeping on both database back ends (SQLite by default, PostgreSQL in
 * production): the same SQL must behave the same on each.
 */
import assert from 'node:assert/strict';
import type { Database } from '../src/db';
import { migrateRelay } from '../src/relay/migrations';
import { emailHash, RelayStore } from '../src/relay/store';
import { DATABASE_BACKENDS } from './helpers/databases';

const SHOP = 'store-test.myshopify.com';

for (const { name, open } of DATABASE_BACKENDS) {
  describe(`relay bookkeeping (${name})`, function () {
    let db: Database;
    let store: RelayStore;
    before(async function () {
      db = await open();
      await migrateRelay(db);
      store = new RelayStore(db);
    });
    after(async () => {
      await db?.close();
    });

    it('migrates once as component "relay"', async () => {
      assert.deepEqual(await migrateRelay(db), []);
    });

    it('remembers a delivery key with its outcome, and a later outcome replaces it', async () => {
      assert.equal(await store.deliveryOutcome('wh-1'), undefined);
      await store.recordDelivery({
        deliveryKey: 'wh-1',
        shop: SHOP,
        topic: 'checkouts/update',
        outcome: 'accepted',
        at: '2026-11-25T10:00:00.000Z',
      });
      assert.equal(await store.deliveryOutcome('wh-1'), 'accepted');
      await store.recordDelivery({
        deliveryKey: 'wh-1',
        shop: SHOP,
        topic: 'checkouts/update',
        outcome: 'closed',
        at: '2026-11-25T10:00:01.000Z',
      });
      assert.equal(await store.deliveryOutcome('wh-1'), 'closed');
    });

    it('keeps one dead letter per delivery, byte for byte even when the body is not UTF-8', async () => {
      const rawBody = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const letter = {
        deliveryKey: 'wh-dead',
        shop: SHOP,
        topic: 'orders/create',
        reason: 'body is not JSON',
        headers: { 'x-shopify-webhook-id': 'wh-dead' },
        rawBody,
        receivedAt: '2026-11-25T10:00:00.000Z',
      };
      assert.equal(await store.addDeadLetter(letter), true);
      assert.equal(await store.addDeadLetter(letter), false);
      const [stored] = await store.listDeadLetters({ pendingOnly: true });
      assert.ok(stored);
      assert.deepEqual(stored.rawBody, rawBody);
      assert.equal(await store.deliveryOutcome('wh-dead'), 'dead_letter');
      assert.equal(await store.countPendingDeadLetters(), 1);

      await store.markReplayFailed(stored.id, 'still not JSON');
      await store.markReplayed(stored.id, 'accepted', '2026-11-25T11:00:00.000Z');
      assert.equal(await store.countPendingDeadLetters(), 0);
      const [done] = await store.listDeadLetters({ ids: [stored.id] });
      assert.deepEqual(
        [done?.replayAttempts, done?.replayOutcome, done?.reason],
        [2, 'accepted', 'still not JSON'],
      );
      assert.equal(await store.deliveryOutcome('wh-dead'), 'accepted');
    });

    it('finds open checkouts by cart token, checkout id, customer or email hash, and forgets closed ones', async () => {
      const at = '2026-11-25T10:00:00.000Z';
      await store.rememberCheckout(
        {
          shop: SHOP,
          checkoutToken: 'c1',
          checkoutId: '11',
          cartToken: 'cart-a',
          customerId: '7',
          email: 'A@Example.com',
        },
        at,
      );
      // A later signal without keys must not erase what is known.
      await store.rememberCheckout(
        { shop: SHOP, checkoutToken: 'c1', checkoutId: null, cartToken: null, customerId: null, email: null },
        at,
      );
      await store.rememberCheckout(
        {
          shop: SHOP,
          checkoutToken: 'c2',
          checkoutId: '12',
          cartToken: 'cart-a',
          customerId: null,
          email: null,
        },
        at,
      );
      await store.rememberCheckout(
        {
          shop: 'other.myshopify.com',
          checkoutToken: 'c3',
          checkoutId: '13',
          cartToken: 'cart-a',
          customerId: '7',
          email: null,
        },
        at,
      );
      const since = '2026-11-20T00:00:00.000Z';
      assert.deepEqual(await store.openCheckouts(SHOP, { cartToken: 'cart-a' }, since), ['c1', 'c2']);
      assert.deepEqual(await store.openCheckouts(SHOP, { checkoutId: '12' }, since), ['c2']);
      assert.deepEqual(await store.openCheckouts(SHOP, { customerId: '7' }, since), ['c1']);
      assert.deepEqual(await store.openCheckouts(SHOP, { email: ' a@example.COM' }, since), ['c1']);
      assert.deepEqual(await store.openCheckouts(SHOP, {}, since), []);
      assert.deepEqual(
        await store.openCheckouts(SHOP, { cartToken: 'cart-a' }, '2026-11-26T00:00:00.000Z'),
        [],
      );

      await store.markCheckoutClosed(SHOP, 'c1', '2026-11-25T12:00:00.000Z');
      assert.deepEqual(await store.openCheckouts(SHOP, { cartToken: 'cart-a' }, since), ['c2']);
      const rows = await db.query<{ email_hash: string | null }>(
        'SELECT email_hash FROM relay_checkouts WHERE checkout_token = $1',
        ['c1'],
      );
      assert.equal(rows[0]?.email_hash, emailHash('a@example.com'));
    });

    describe('compliance erasure', () => {
      const ERASE_SHOP = 'erase-test.myshopify.com';
      const KEEP_SHOP = 'keep-test.myshopify.com';
      const at = '2026-11-25T10:00:00.000Z';
      const delivery = (key: string, shop: string, topic: string) => ({
        deliveryKey: key,
        shop,
        topic,
        outcome: 'erased',
        at,
      });
      const letter = (key: string, shop: string, body: string | Buffer) => ({
        deliveryKey: key,
        shop,
        topic: 'checkouts/update',
        reason: 'invalid checkouts/update payload',
        headers: {},
        rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body),
        receivedAt: at,
      });
      const remember = (
        shop: string,
        checkoutToken: string,
        customerId: string | null,
        email: string | null,
      ) =>
        store.rememberCheckout(
          { shop, checkoutToken, checkoutId: null, cartToken: null, customerId, email },
          at,
        );
      const tokens = async (shop: string) =>
        (
          await db.query<{ checkout_token: string }>(
            'SELECT checkout_token FROM relay_checkouts WHERE shop = $1 ORDER BY checkout_token',
            [shop],
          )
        ).map((r) => r.checkout_token);

      it("erases a customer's routing rows, data requests and the dead letters that name them, by id or email", async () => {
        await remember(ERASE_SHOP, 'by-id', '4242', null);
        await remember(ERASE_SHOP, 'by-email', null, 'Jo@Example.com');
        await remember(ERASE_SHOP, 'other', '4243', 'other@example.com');
        await remember(KEEP_SHOP, 'same-customer-other-shop', '4242', 'jo@example.com');
        await store.recordDataRequest(
          {
            shop: ERASE_SHOP,
            dataRequestId: 'dr-9',
            customerId: '4242',
            email: 'jo@example.com',
            ordersRequested: ['1'],
            receivedAt: at,
          },
          delivery('wh-dr-9', ERASE_SHOP, 'customers/data_request'),
        );
        await store.addDeadLetter(letter('wh-names-email', ERASE_SHOP, '{"email":"JO@example.com"}'));
        // Not UTF-8, so stored as base64: still searched.
        await store.addDeadLetter(
          letter(
            'wh-names-id',
            ERASE_SHOP,
            Buffer.concat([Buffer.from('{"customer":{"id":4242}} '), Buffer.from([0xff])]),
          ),
        );
        await store.addDeadLetter(letter('wh-longer-id', ERASE_SHOP, '{"order":{"id":142420}}'));
        await store.addDeadLetter(letter('wh-other-shop', KEEP_SHOP, '{"email":"jo@example.com"}'));

        const erased = await store.eraseCustomer(
          ERASE_SHOP,
          { customerId: '4242', email: 'jo@example.com' },
          delivery('wh-redact', ERASE_SHOP, 'customers/redact'),
        );
        assert.deepEqual(erased, { checkouts: 2, deadLetters: 2, dataRequests: 1, deliveries: 0 });
        assert.deepEqual(await tokens(ERASE_SHOP), ['other']);
        assert.deepEqual(await tokens(KEEP_SHOP), ['same-customer-other-shop']);
        assert.deepEqual(
          (await store.listDeadLetters()).filter((l) => l.shop !== SHOP).map((l) => l.deliveryKey),
          ['wh-longer-id', 'wh-other-shop'],
        );
        // The erased letters' deliveries stay known (a retry is a duplicate) and are pruned normally.
        assert.equal(await store.deliveryOutcome('wh-names-email'), 'erased');
        assert.equal(await store.deliveryOutcome('wh-redact'), 'erased');
        assert.deepEqual(
          await store.customerRecords(ERASE_SHOP, { customerId: '4242', email: 'jo@example.com' }),
          { checkouts: [], dataRequests: [] },
        );
        assert.deepEqual(
          await store.eraseCustomer(
            ERASE_SHOP,
            { customerId: '4242', email: 'jo@example.com' },
            delivery('wh-redact-again', ERASE_SHOP, 'customers/redact'),
          ),
          { checkouts: 0, deadLetters: 0, dataRequests: 0, deliveries: 0 },
        );
      });

      it('erases every row of a shop and keeps only the record of the erasing delivery', async () => {
        await remember(ERASE_SHOP, 'left-over', '1', 'a@example.com');
        await store.recordDelivery({
          ...delivery('wh-seen', ERASE_SHOP, 'checkouts/update'),
          outcome: 'accepted',
        });
        await store.recordDataRequest(
          {
            shop: ERASE_SHOP,
            dataRequestId: 'dr-10',
            customerId: '1',
            email: null,
            ordersRequested: [],
            receivedAt: at,
          },
          delivery('wh-dr-10', ERASE_SHOP, 'customers/data_request'),
        );
        const erased = await store.eraseShop(
          ERASE_SHOP,
          delivery('wh-shop-redact', ERASE_SHOP, 'shop/redact'),
        );
        assert.ok(erased.checkouts >= 1 && erased.deadLetters >= 1 && erased.dataRequests === 1);
        assert.deepEqual(await tokens(ERASE_SHOP), []);
        const deliveries = await db.query<{ delivery_key: string }>(
          'SELECT delivery_key FROM relay_deliveries WHERE shop = $1',
          [ERASE_SHOP],
        );
        assert.deepEqual(
          deliveries.map((d) => d.delivery_key),
          ['wh-shop-redact'],
        );
        assert.deepEqual(await tokens(KEEP_SHOP), ['same-customer-other-shop']);
        assert.equal((await store.listDeadLetters()).filter((l) => l.shop === ERASE_SHOP).length, 0);
      });
    });

    it('prunes old delivery keys but never the record of a pending dead letter', async () => {
      await store.recordDelivery({
        deliveryKey: 'old',
        shop: SHOP,
        topic: 't/x',
        outcome: 'accepted',
        at: '2026-01-01T00:00:00.000Z',
      });
      await store.addDeadLetter({
        deliveryKey: 'old-dead',
        shop: SHOP,
        topic: 't/x',
        reason: 'r',
        headers: {},
        rawBody: Buffer.from('{}'),
        receivedAt: '2026-01-01T00:00:00.000Z',
      });
      const removed = await store.prune('2026-06-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
      assert.ok(removed.deliveries >= 1);
      assert.equal(await store.deliveryOutcome('old'), undefined);
      assert.equal(await store.deliveryOutcome('old-dead'), 'dead_letter');
    });
  });
}

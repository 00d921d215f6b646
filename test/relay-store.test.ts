/**
 * The relay's bookkeeping on both database back ends (SQLite by default, PostgreSQL in
 * production): the same SQL must behave the same on each.
 */
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../src/db';
import { emailHash, migrateRelay, RelayStore } from '../src/api/webhooks/store';
import { freshPostgresDatabase } from './helpers/postgres';

const backends: [string, () => Promise<Database | undefined>][] = [
  ['sqlite', () => openDatabase({ sqliteFile: ':memory:' })],
  [
    'postgres',
    async () => {
      const url = await freshPostgresDatabase();
      return url ? openDatabase({ url, sqliteFile: '' }) : undefined;
    },
  ],
];

const SHOP = 'store-test.myshopify.com';

for (const [name, open] of backends) {
  describe(`relay bookkeeping (${name})`, function () {
    let db: Database;
    let store: RelayStore;
    before(async function () {
      const opened = await open();
      if (!opened) {
        console.warn(`    (no PostgreSQL server on this machine: skipping the ${name} relay store suite)`);
        this.skip();
      }
      db = opened!;
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

import assert from 'node:assert/strict';
import type { Database } from '../src/db';
import {
  InvalidMetricError,
  openMetricsStore,
  rebuildRollups,
  type MetricsStore,
} from '../src/metrics/store';
import type { MetricEvent } from '../src/workflows/contracts';
import { DATABASE_BACKENDS } from './helpers/databases';
import { cartEvents } from './helpers/metric-events';

const ALL = { from: '2026-01-01', to: '2026-12-31' };

async function recordAll(store: MetricsStore, events: MetricEvent[]) {
  for (const e of events) await store.record(e);
}

for (const { name, open } of DATABASE_BACKENDS) {
  describe(`metrics store (${name})`, function () {
    let db: Database;
    let store: MetricsStore;
    beforeEach(async function () {
      db = await open();
      store = await openMetricsStore(db, { timeZone: 'UTC' });
    });
    afterEach(async () => {
      await db?.close();
    });

    it('records the same business key once, however often it arrives', async () => {
      const events = cartEvents({ token: 'c1', abandonedAt: '2026-03-01T10:00:00Z', touches: 2 });
      for (const e of events) assert.equal(await store.record(e), 'recorded');
      for (const e of events) assert.equal(await store.record(e), 'duplicate');
      const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM metric_events');
      assert.equal(Number(rows[0]!.n), events.length);
      const s = await store.summary(ALL);
      assert.equal(s.headline.abandoned, 1);
      assert.equal(s.headline.emailsSent, 2);
    });

    it('aggregates by segment, touch and cohort day, with rates', async () => {
      await recordAll(store, [
        ...cartEvents({
          token: 'w1',
          segment: 'welcome',
          abandonedAt: '2026-03-01T10:00:00Z',
          touches: 2,
          order: { revenue: '80.00', at: '2026-03-02T09:00:00Z', touch: 2 },
        }),
        ...cartEvents({ token: 'w2', segment: 'welcome', abandonedAt: '2026-03-01T11:00:00Z', touches: 1 }),
        ...cartEvents({
          token: 'p1',
          segment: 'premium',
          value: '300.00',
          abandonedAt: '2026-03-02T08:00:00Z',
          touches: 3,
          order: { revenue: '250.50', at: '2026-03-02T20:00:00Z', touch: 1 },
        }),
        ...cartEvents({ token: 'l1', segment: 'loyalty', abandonedAt: '2026-03-05T08:00:00Z', touches: 1 }),
      ]);
      await store.recordEngagement({
        source: 'test',
        sourceId: 'o1',
        kind: 'open',
        shop: 'demo.myshopify.com',
        checkoutToken: 'w1',
        touch: 1,
        at: '2026-03-01T12:00:00Z',
      });
      await store.recordEngagement({
        source: 'test',
        sourceId: 'c1',
        kind: 'click',
        shop: 'demo.myshopify.com',
        checkoutToken: 'w1',
        touch: 2,
        at: '2026-03-01T13:00:00Z',
      });

      const s = await store.summary({ from: '2026-03-01', to: '2026-03-02' });
      assert.equal(s.headline.abandoned, 3, 'l1 was abandoned outside the range');
      assert.equal(s.headline.emailed, 3);
      assert.equal(s.headline.emailsSent, 6);
      assert.equal(s.headline.recovered, 2);
      assert.deepEqual(s.headline.recoveryRate, { count: 2, of: 3, rate: 2 / 3 });
      assert.deepEqual(s.headline.revenue, [{ currency: 'USD', amount: '330.50' }]);
      assert.deepEqual(s.headline.revenuePerRecipient, [{ currency: 'USD', amount: '110.17' }]);
      assert.deepEqual(s.funnel, { abandoned: 3, emailed: 3, clicked: 1, recovered: 2 });

      const welcome = s.bySegment.find((x) => x.segment === 'welcome')!;
      assert.equal(welcome.carts, 2);
      assert.equal(welcome.sent, 3);
      assert.deepEqual(welcome.opens, { count: 1, of: 3, rate: 1 / 3 });
      assert.deepEqual(welcome.clicks, { count: 1, of: 3, rate: 1 / 3 });
      assert.deepEqual(welcome.conversions, { count: 1, of: 2, rate: 0.5 });
      assert.deepEqual(welcome.revenue, [{ currency: 'USD', amount: '80.00' }]);
      assert.equal(
        s.bySegment.find((x) => x.segment === 'loyalty'),
        undefined,
      );

      assert.deepEqual(
        s.byTouch.map((t) => [t.touch, t.sent, t.conversions.count, t.revenue]),
        [
          [1, 3, 1, [{ currency: 'USD', amount: '250.50' }]],
          [2, 2, 1, [{ currency: 'USD', amount: '80.00' }]],
          [3, 1, 0, []],
        ],
      );
      assert.deepEqual(s.revenueByDay, [
        { day: '2026-03-02', currency: 'USD', amount: '330.50', recovered: 2 },
      ]);
      assert.deepEqual(
        s.recentCarts.map((c) => c.checkoutToken),
        ['p1', 'w2', 'w1'],
      );
      assert.equal(s.recentCarts[2]!.clicked, true);
    });

    it('keeps money per currency and never adds currencies together', async () => {
      await recordAll(store, [
        ...cartEvents({
          token: 'u',
          currency: 'USD',
          abandonedAt: '2026-04-01T10:00:00Z',
          touches: 1,
          order: { revenue: '10.00', at: '2026-04-01T12:00:00Z', touch: 1 },
        }),
        ...cartEvents({
          token: 'e',
          currency: 'EUR',
          abandonedAt: '2026-04-01T10:00:00Z',
          touches: 1,
          order: { revenue: '20.00', at: '2026-04-01T12:00:00Z', touch: 1 },
        }),
        ...cartEvents({
          token: 'j',
          currency: 'JPY',
          abandonedAt: '2026-04-01T10:00:00Z',
          touches: 1,
          order: { revenue: '1500', at: '2026-04-01T12:00:00Z', touch: 1 },
        }),
      ]);
      const s = await store.summary(ALL);
      assert.deepEqual(s.headline.revenue, [
        { currency: 'EUR', amount: '20.00' },
        { currency: 'JPY', amount: '1500' },
        { currency: 'USD', amount: '10.00' },
      ]);
      assert.deepEqual(s.currencies, ['EUR', 'JPY', 'USD']);
      assert.equal(s.revenueByDay.length, 3);
    });

    it('gives the same figures when facts arrive out of order', async () => {
      const events = cartEvents({
        token: 'o',
        abandonedAt: '2026-05-01T10:00:00Z',
        touches: 2,
        order: { revenue: '42.00', at: '2026-05-01T15:00:00Z', touch: 2 },
      });
      await store.recordEngagement({
        source: 'test',
        sourceId: 'early-click',
        kind: 'click',
        shop: 'demo.myshopify.com',
        checkoutToken: 'o',
        touch: 2,
        at: '2026-05-01T13:00:00Z',
      });
      await recordAll(store, [...events].reverse());
      const s = await store.summary(ALL);
      assert.deepEqual(s.funnel, { abandoned: 1, emailed: 1, clicked: 1, recovered: 1 });
      assert.deepEqual(
        s.byTouch.map((t) => [t.touch, t.sent, t.clicks.count, t.conversions.count]),
        [
          [1, 1, 0, 0],
          [2, 1, 1, 1],
        ],
      );
      assert.deepEqual(s.headline.revenue, [{ currency: 'USD', amount: '42.00' }]);
    });

    it('counts an opened touch once and keeps Apple privacy opens apart', async () => {
      await recordAll(store, cartEvents({ token: 'm', abandonedAt: '2026-06-01T10:00:00Z', touches: 1 }));
      const open = {
        source: 'klaviyo',
        kind: 'open' as const,
        shop: 'demo.myshopify.com',
        checkoutToken: 'm',
        touch: 1,
      };
      assert.equal(
        await store.recordEngagement({
          ...open,
          sourceId: 'e1',
          at: '2026-06-01T11:05:00Z',
          privacyOpen: true,
        }),
        'recorded',
      );
      assert.equal(
        await store.recordEngagement({
          ...open,
          sourceId: 'e1',
          at: '2026-06-01T11:05:00Z',
          privacyOpen: true,
        }),
        'duplicate',
      );
      let t = (await store.summary(ALL)).byTouch[0]!;
      assert.deepEqual([t.opens.count, t.humanOpens.count], [1, 0]);
      await store.recordEngagement({
        ...open,
        sourceId: 'e2',
        at: '2026-06-01T12:00:00Z',
        privacyOpen: false,
      });
      await store.recordEngagement({
        ...open,
        sourceId: 'e3',
        at: '2026-06-01T13:00:00Z',
        privacyOpen: false,
      });
      t = (await store.summary(ALL)).byTouch[0]!;
      assert.deepEqual([t.sent, t.opens.count, t.humanOpens.count], [1, 1, 1]);
    });

    it('reports lift against the control group only when it has members', async () => {
      await recordAll(store, [
        ...cartEvents({
          token: 't1',
          abandonedAt: '2026-07-01T10:00:00Z',
          touches: 1,
          order: { revenue: '50', at: '2026-07-01T12:00:00Z', touch: 1 },
        }),
        ...cartEvents({ token: 't2', abandonedAt: '2026-07-01T10:00:00Z', touches: 1 }),
      ]);
      assert.equal((await store.summary(ALL)).control, null);
      await recordAll(store, [
        ...cartEvents({
          token: 'k1',
          control: true,
          abandonedAt: '2026-07-01T10:00:00Z',
          order: { revenue: '70', at: '2026-07-02T10:00:00Z', touch: null },
        }),
        ...cartEvents({ token: 'k2', control: true, abandonedAt: '2026-07-01T10:00:00Z' }),
        ...cartEvents({ token: 'k3', control: true, abandonedAt: '2026-07-01T10:00:00Z' }),
        ...cartEvents({ token: 'k4', control: true, abandonedAt: '2026-07-01T10:00:00Z' }),
      ]);
      const s = await store.summary(ALL);
      assert.equal(s.headline.abandoned, 6);
      assert.equal(s.headline.treated, 2);
      assert.deepEqual(
        s.headline.revenue,
        [{ currency: 'USD', amount: '50.00' }],
        'control revenue is not recovered revenue',
      );
      assert.ok(s.control);
      assert.deepEqual(s.control.recoveryRate, { count: 1, of: 4, rate: 0.25 });
      assert.equal(s.control.liftPoints, 25);
      assert.equal(s.control.liftRelative, 1);
      assert.equal(s.control.incrementalRecoveries, 0.5);
    });

    it('filters by shop', async () => {
      await recordAll(store, [
        ...cartEvents({
          shop: 'a.myshopify.com',
          token: 'x',
          abandonedAt: '2026-08-01T10:00:00Z',
          touches: 1,
        }),
        ...cartEvents({
          shop: 'b.myshopify.com',
          token: 'x',
          abandonedAt: '2026-08-01T10:00:00Z',
          touches: 2,
        }),
      ]);
      assert.deepEqual(await store.shops(), ['a.myshopify.com', 'b.myshopify.com']);
      const b = await store.summary({ ...ALL, shop: 'B.myshopify.com' });
      assert.equal(b.headline.abandoned, 1);
      assert.equal(b.headline.emailsSent, 2);
      assert.equal((await store.summary(ALL)).headline.abandoned, 2);
    });

    it('rejects an invalid fact with a message naming the field, and records nothing', async () => {
      const [abandoned] = cartEvents({ token: 'bad', abandonedAt: '2026-09-01T10:00:00Z' });
      await assert.rejects(
        store.record({ ...abandoned!, cartValue: '12,00' } as MetricEvent),
        (err: Error) => {
          assert.ok(err instanceof InvalidMetricError);
          assert.match(err.message, /decimal amount/);
          return true;
        },
      );
      await assert.rejects(store.record({ ...abandoned!, at: 'yesterday' }), /at: expected an ISO-8601 time/);
      assert.equal((await store.summary(ALL)).headline.abandoned, 0);
    });

    it('joins a recipient to the latest touch sent to them before an open', async () => {
      const link = {
        shop: 'demo.myshopify.com',
        checkoutToken: 'r',
        restoreUrl: 'https://demo.myshopify.com/r',
        recipientHash: 'h1',
      };
      await store.registerLink({ ...link, touch: 1, at: '2026-10-01T10:00:00Z' });
      await store.registerLink({ ...link, touch: 2, at: '2026-10-02T10:00:00Z' });
      assert.deepEqual(
        await store.latestTouchForRecipient('h1', '2026-10-01T18:00:00Z', '2026-09-25T00:00:00Z'),
        { shop: 'demo.myshopify.com', checkoutToken: 'r', touch: 1 },
      );
      assert.equal(
        (await store.latestTouchForRecipient('h1', '2026-10-03T00:00:00Z', '2026-10-01T00:00:00Z'))?.touch,
        2,
      );
      assert.equal(
        await store.latestTouchForRecipient('h2', '2026-10-03T00:00:00Z', '2026-09-01T00:00:00Z'),
        undefined,
      );
      assert.equal(
        (await store.findLink({ shop: 'demo.myshopify.com', checkoutToken: 'r', touch: 2 }))?.restoreUrl,
        link.restoreUrl,
      );
    });

    it('forgets a recipient on an erasure request, keeping the counts', async () => {
      await recordAll(store, cartEvents({ token: 'g', abandonedAt: '2026-10-01T09:00:00Z', touches: 1 }));
      const link = {
        shop: 'demo.myshopify.com',
        checkoutToken: 'g',
        touch: 1,
        restoreUrl: 'https://demo.myshopify.com/g',
        recipientHash: 'hg',
        at: '2026-10-01T10:00:00Z',
      };
      await store.registerLink(link);
      assert.equal(await store.redactRecipient('hg'), 1);
      assert.equal(
        await store.latestTouchForRecipient('hg', '2026-10-02T00:00:00Z', '2026-09-01T00:00:00Z'),
        undefined,
      );
      assert.equal((await store.findLink(link))?.restoreUrl, '');
      assert.equal((await store.summary(ALL)).headline.emailsSent, 1);
    });

    it("erases every row of a shop on shop/redact, facts and rollups, and no other shop's", async () => {
      const other = 'other.myshopify.com';
      await recordAll(store, cartEvents({ token: 'e1', abandonedAt: '2026-10-01T09:00:00Z', touches: 1 }));
      await recordAll(
        store,
        cartEvents({ token: 'e2', shop: other, abandonedAt: '2026-10-01T09:00:00Z', touches: 1 }),
      );
      for (const [shop, checkoutToken] of [
        ['demo.myshopify.com', 'e1'],
        [other, 'e2'],
      ] as const)
        await store.registerLink({
          shop,
          checkoutToken,
          touch: 1,
          restoreUrl: `https://${shop}/${checkoutToken}`,
          recipientHash: 'he',
          at: '2026-10-01T10:00:00Z',
        });
      assert.ok((await store.eraseShop(' Demo.myshopify.com')) > 0);
      assert.equal((await store.summary({ ...ALL, shop: 'demo.myshopify.com' })).headline.abandoned, 0);
      assert.equal((await store.summary({ ...ALL, shop: other })).headline.abandoned, 1);
      assert.deepEqual(await store.shops(), [other]);
      assert.deepEqual(
        (await store.linksForRecipient('he')).map((l) => [l.shop, l.checkoutToken]),
        [[other, 'e2']],
      );
      for (const table of ['metric_events', 'metric_carts', 'metric_touches', 'metric_daily_touches']) {
        const [row] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE shop = $1`, [
          'demo.myshopify.com',
        ]);
        assert.equal(Number(row!.n), 0, table);
      }
    });

    it('forgets the order ids an erasure request names, keeping revenue and counts', async () => {
      const order = { revenue: '120.00', at: '2026-10-02T09:00:00Z', touch: 1 };
      await recordAll(
        store,
        cartEvents({ token: 'o1', abandonedAt: '2026-10-01T09:00:00Z', touches: 1, order }),
      );
      await recordAll(
        store,
        cartEvents({ token: 'o2', abandonedAt: '2026-10-01T09:00:00Z', touches: 1, order }),
      );
      const before = (await store.summary(ALL)).headline;
      // Each order id is in the cart row and in the converted fact.
      assert.equal(await store.redactOrders('demo.myshopify.com', ['order-o1', 'not-ours']), 2);
      const orderIds = async () =>
        (
          await db.query<{ checkout_token: string; order_id: string | null }>(
            'SELECT checkout_token, order_id FROM metric_carts ORDER BY checkout_token',
          )
        ).map((r) => [r.checkout_token, r.order_id]);
      assert.deepEqual(await orderIds(), [
        ['o1', null],
        ['o2', 'order-o2'],
      ]);
      const facts = await db.query<{ payload: string }>(
        "SELECT payload FROM metric_events WHERE kind = 'converted' ORDER BY checkout_token",
      );
      assert.deepEqual(
        facts.map((f) => (JSON.parse(f.payload) as { orderId: string | null }).orderId),
        [null, 'order-o2'],
      );
      assert.deepEqual((await store.summary(ALL)).headline, before);
      assert.equal(await store.redactOrders('demo.myshopify.com', ['order-o1']), 0);
    });

    it('moves the sync watermark forward only', async () => {
      await store.markSynced('klaviyo', '2026-10-02T00:00:00Z');
      await store.markSynced('klaviyo', '2026-10-01T00:00:00Z');
      assert.equal(await store.syncedUntil('klaviyo'), '2026-10-02T00:00:00.000Z');
    });
    describe('days in the configured time zone', () => {
      const LA = 'America/Los_Angeles';
      // 23:30 PST on 7 March, the eve of the spring-forward day: 07:30 on 8 March in UTC.
      const lateEvening = cartEvents({
        token: 'late',
        abandonedAt: '2026-03-08T07:30:00Z',
        touches: 1,
        // 23:45 PDT on 8 March (a 23-hour day): 06:45 on 9 March in UTC.
        order: { revenue: '42.00', at: '2026-03-09T06:45:00Z', touch: 1 },
      });

      it("puts a cart abandoned at 23:30 local time on that local day, its revenue on the order's local day", async () => {
        const local = await openMetricsStore(db, { timeZone: LA });
        await recordAll(local, lateEvening);

        const eve = await local.summary({ from: '2026-03-07', to: '2026-03-07' });
        assert.equal(eve.headline.abandoned, 1);
        assert.deepEqual(eve.filter.timeZone, LA);
        assert.deepEqual(eve.revenueByDay, [
          { day: '2026-03-08', currency: 'USD', amount: '42.00', recovered: 1 },
        ]);
        assert.deepEqual(
          eve.recentCarts.map((c) => c.checkoutToken),
          ['late'],
          'recent carts use the same local day bounds',
        );
        const utcDay = await local.summary({ from: '2026-03-08', to: '2026-03-08' });
        assert.equal(utcDay.headline.abandoned, 0, 'not on the UTC day of the abandonment');
        assert.deepEqual(utcDay.recentCarts, []);
      });

      async function rollups(database: Database) {
        const out: Record<string, string[]> = {};
        for (const table of ['metric_daily_carts', 'metric_daily_touches', 'metric_daily_revenue']) {
          const rows = await database.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
          out[table] = rows
            .map((r) =>
              Object.entries(r)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(' '),
            )
            .sort();
        }
        return out;
      }

      it('rebuilds rollups written in UTC once for a new zone, equal to a store fed the same facts in that zone', async () => {
        const facts = [
          ...lateEvening,
          ...cartEvents({
            token: 'noon',
            segment: 'premium',
            value: '300.00',
            abandonedAt: '2026-03-10T20:00:00Z',
            touches: 3,
          }),
          ...cartEvents({
            token: 'ctl',
            control: true,
            abandonedAt: '2026-03-11T02:00:00Z',
            order: { revenue: '10.00', at: '2026-03-11T09:00:00Z', touch: null },
          }),
        ];
        await recordAll(store, facts);
        await store.recordEngagement({
          source: 'test',
          sourceId: 'click-1',
          kind: 'click',
          shop: 'demo.myshopify.com',
          checkoutToken: 'noon',
          touch: 2,
          at: '2026-03-11T07:00:00Z',
        });
        const utcRollups = await rollups(db);

        const rebuilt = await openMetricsStore(db, { timeZone: LA });
        const freshDb = await open();
        try {
          const fresh = await openMetricsStore(freshDb, { timeZone: LA });
          await recordAll(fresh, facts);
          await fresh.recordEngagement({
            source: 'test',
            sourceId: 'click-1',
            kind: 'click',
            shop: 'demo.myshopify.com',
            checkoutToken: 'noon',
            touch: 2,
            at: '2026-03-11T07:00:00Z',
          });
          assert.notDeepEqual(await rollups(db), utcRollups, 'the days moved');
          assert.deepEqual(await rollups(db), await rollups(freshDb));
          const range = { from: '2026-03-01', to: '2026-03-31' };
          assert.deepEqual(await rebuilt.summary(range), await fresh.summary(range));
        } finally {
          await freshDb.close();
        }

        // Back to UTC, one cart per page: the paged read sees every cart once.
        assert.equal(await rebuildRollups(db, 'UTC', 1), true);
        assert.deepEqual(await rollups(db), utcRollups);
        await openMetricsStore(db, { timeZone: LA });

        // A second start in the same zone leaves the rollups alone: a marker row survives it.
        await db.run("UPDATE metric_daily_carts SET abandoned = 99 WHERE segment = 'premium'");
        assert.equal(await rebuildRollups(db, LA), false);
        await openMetricsStore(db, { timeZone: LA });
        const [marker] = await db.query<{ abandoned: number }>(
          "SELECT abandoned FROM metric_daily_carts WHERE segment = 'premium'",
        );
        assert.equal(Number(marker!.abandoned), 99);
        const [recorded] = await db.query<{ value: string }>(
          "SELECT value FROM metric_rollup_state WHERE name = 'time_zone'",
        );
        assert.equal(recorded!.value, LA);
      });
    });
  });
}

/** The summary queries: the dashboard's figures from the daily rollups, its recent carts from `metric_carts`. */
import type { Database } from '../db';
import { SEGMENTS } from '../workflows/policy';
import { addDays, startOfDayInZone } from './days';
import { dividedBy, fromMicros } from '../workflows/money';
import type { MetricsFilter, MetricsSummary, Money, Rate, RecentCart, SegmentFigures } from './types';

const rate = (count: number, of: number): Rate => ({ count, of, rate: of > 0 ? count / of : null });
type Cell = string | number | null;
type Row = Record<string, Cell>;
const num = (v: Cell | undefined) => Number(v ?? 0);

export async function shops(db: Database): Promise<string[]> {
  const rows = await db.query<{ shop: string }>('SELECT DISTINCT shop FROM metric_daily_carts ORDER BY shop');
  return rows.map((r) => r.shop);
}

export async function summary(
  db: Database,
  timeZone: string,
  filter: MetricsFilter,
): Promise<MetricsSummary> {
  const shop = filter.shop ? filter.shop.trim().toLowerCase() : null;
  const where = `day >= $1 AND day <= $2${shop ? ' AND shop = $3' : ''}`;
  const params = shop ? [filter.from, filter.to, shop] : [filter.from, filter.to];

  const cartRows = await db.query<Row>(
    `SELECT segment, control_group, currency, SUM(abandoned) AS abandoned, SUM(emailed) AS emailed,
            SUM(opened) AS opened, SUM(clicked) AS clicked, SUM(recovered) AS recovered,
            CAST(SUM(revenue_micros) AS TEXT) AS revenue
       FROM metric_daily_carts WHERE ${where}
      GROUP BY segment, control_group, currency`,
    params,
  );
  const touchRows = await db.query<Row>(
    `SELECT segment, touch, currency, SUM(sent) AS sent, SUM(opened) AS opened, SUM(human_opened) AS human_opened,
            SUM(clicked) AS clicked, SUM(converted) AS converted, CAST(SUM(revenue_micros) AS TEXT) AS revenue
       FROM metric_daily_touches WHERE ${where}
      GROUP BY segment, touch, currency`,
    params,
  );
  const revenueRows = await db.query<Row>(
    `SELECT order_day, currency, SUM(recovered) AS recovered, CAST(SUM(revenue_micros) AS TEXT) AS revenue
       FROM metric_daily_revenue WHERE ${where}
      GROUP BY order_day, currency ORDER BY order_day, currency`,
    params,
  );
  const recent = await recentCarts(db, timeZone, filter, shop);

  // Money stays per currency: a map currency -> micro-units (bigint) per bucket.
  type MoneyMap = Map<string, bigint>;
  const addMoney = (m: MoneyMap, currency: string, micros: Cell | undefined) =>
    m.set(currency, (m.get(currency) ?? 0n) + BigInt(String(micros ?? '0')));
  const moneyList = (m: MoneyMap): Money[] =>
    [...m.entries()]
      .filter(([, v]) => v !== 0n)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, v]) => ({ currency, amount: fromMicros(v, currency) }));

  const totals = {
    abandoned: 0,
    treated: 0,
    emailed: 0,
    clicked: 0,
    recovered: 0,
    control: 0,
    controlRecovered: 0,
  };
  const revenue: MoneyMap = new Map();
  const currencies = new Set<string>();
  const segments = new Map<
    string,
    { carts: number; emailed: number; recovered: number; revenue: MoneyMap }
  >();
  for (const r of cartRows) {
    const currency = String(r.currency);
    const control = num(r.control_group) === 1;
    const abandoned = num(r.abandoned);
    totals.abandoned += abandoned;
    if (abandoned > 0) currencies.add(currency);
    if (control) {
      totals.control += abandoned;
      totals.controlRecovered += num(r.recovered);
      continue;
    }
    totals.treated += abandoned;
    totals.emailed += num(r.emailed);
    totals.clicked += num(r.clicked);
    totals.recovered += num(r.recovered);
    addMoney(revenue, currency, r.revenue);
    const s = segments.get(String(r.segment)) ?? {
      carts: 0,
      emailed: 0,
      recovered: 0,
      revenue: new Map<string, bigint>(),
    };
    s.carts += abandoned;
    s.emailed += num(r.emailed);
    s.recovered += num(r.recovered);
    addMoney(s.revenue, currency, r.revenue);
    segments.set(String(r.segment), s);
  }

  interface TouchAgg {
    sent: number;
    opened: number;
    human: number;
    clicked: number;
    converted: number;
    revenue: MoneyMap;
  }
  const emptyAgg = (): TouchAgg => ({
    sent: 0,
    opened: 0,
    human: 0,
    clicked: 0,
    converted: 0,
    revenue: new Map<string, bigint>(),
  });
  const byTouch = new Map<number, TouchAgg>();
  const bySegmentTouches = new Map<string, TouchAgg>();
  let emailsSent = 0;
  for (const r of touchRows) {
    for (const [map, id] of [
      [byTouch, num(r.touch)],
      [bySegmentTouches, String(r.segment)],
    ] as [Map<unknown, TouchAgg>, unknown][]) {
      const a = map.get(id) ?? emptyAgg();
      a.sent += num(r.sent);
      a.opened += num(r.opened);
      a.human += num(r.human_opened);
      a.clicked += num(r.clicked);
      a.converted += num(r.converted);
      addMoney(a.revenue, String(r.currency), r.revenue);
      map.set(id, a);
    }
    emailsSent += num(r.sent);
  }

  const revenuePerRecipient = moneyList(revenue).map((m) => ({
    currency: m.currency,
    amount: dividedBy(revenue.get(m.currency)!, totals.emailed, m.currency),
  }));
  const treatedRate = rate(totals.recovered, totals.treated);
  const controlRate = rate(totals.controlRecovered, totals.control);
  const control =
    totals.control > 0
      ? {
          carts: totals.control,
          recovered: totals.controlRecovered,
          recoveryRate: controlRate,
          treatedRecoveryRate: treatedRate,
          liftPoints:
            treatedRate.rate !== null && controlRate.rate !== null
              ? (treatedRate.rate - controlRate.rate) * 100
              : null,
          liftRelative:
            treatedRate.rate !== null && controlRate.rate
              ? (treatedRate.rate - controlRate.rate) / controlRate.rate
              : null,
          incrementalRecoveries:
            treatedRate.rate !== null && controlRate.rate !== null
              ? totals.recovered - controlRate.rate * totals.treated
              : null,
        }
      : null;

  const bySegment: SegmentFigures[] = SEGMENTS.filter((s) => segments.has(s) || bySegmentTouches.has(s)).map(
    (s) => {
      const c = segments.get(s) ?? { carts: 0, emailed: 0, recovered: 0, revenue: new Map<string, bigint>() };
      const t = bySegmentTouches.get(s) ?? emptyAgg();
      return {
        segment: s,
        carts: c.carts,
        emailed: c.emailed,
        sent: t.sent,
        opens: rate(t.opened, t.sent),
        humanOpens: rate(t.human, t.sent),
        clicks: rate(t.clicked, t.sent),
        conversions: rate(c.recovered, c.emailed),
        revenue: moneyList(c.revenue),
      };
    },
  );

  return {
    filter: { shop, from: filter.from, to: filter.to, timeZone: timeZone },
    headline: {
      abandoned: totals.abandoned,
      treated: totals.treated,
      emailed: totals.emailed,
      emailsSent,
      recovered: totals.recovered,
      recoveryRate: treatedRate,
      revenue: moneyList(revenue),
      revenuePerRecipient,
    },
    control,
    funnel: {
      abandoned: totals.treated,
      emailed: totals.emailed,
      clicked: totals.clicked,
      recovered: totals.recovered,
    },
    bySegment,
    byTouch: [...byTouch.entries()]
      .sort(([a], [b]) => a - b)
      .map(([touch, a]) => ({
        touch,
        sent: a.sent,
        opens: rate(a.opened, a.sent),
        humanOpens: rate(a.human, a.sent),
        clicks: rate(a.clicked, a.sent),
        conversions: rate(a.converted, a.sent),
        revenue: moneyList(a.revenue),
      })),
    revenueByDay: revenueRows
      .map((r) => ({
        day: String(r.order_day),
        currency: String(r.currency),
        amount: fromMicros(String(r.revenue ?? '0'), String(r.currency)),
        recovered: num(r.recovered),
      }))
      .filter((r) => r.recovered > 0),
    recentCarts: recent,
    currencies: [...currencies].sort(),
  };
}

async function recentCarts(
  db: Database,
  timeZone: string,
  filter: MetricsFilter,
  shop: string | null,
): Promise<RecentCart[]> {
  const fromTime = new Date(startOfDayInZone(filter.from, timeZone)).toISOString();
  const toTime = new Date(startOfDayInZone(addDays(filter.to, 1), timeZone)).toISOString();
  const limit = Math.max(1, Math.min(filter.recentLimit ?? 20, 200));
  const rows = await db.query<Row>(
    `SELECT c.shop, c.checkout_token, c.workflow_id, c.segment, c.control_group, c.abandoned_at,
            c.cart_value_micros, c.currency, c.outcome, c.revenue_micros, c.revenue_currency, c.converted_at,
            (SELECT COUNT(*) FROM metric_touches t WHERE t.shop = c.shop AND t.checkout_token = c.checkout_token
               AND t.sent_at IS NOT NULL) AS touches_sent,
            (SELECT COUNT(*) FROM metric_touches t WHERE t.shop = c.shop AND t.checkout_token = c.checkout_token
               AND t.sent_at IS NOT NULL AND t.clicked_at IS NOT NULL) AS touches_clicked
       FROM metric_carts c
      WHERE c.abandoned_at >= $1 AND c.abandoned_at < $2${shop ? ' AND c.shop = $4' : ''}
      ORDER BY c.abandoned_at DESC LIMIT $3`,
    shop ? [fromTime, toTime, limit, shop] : [fromTime, toTime, limit],
  );
  return rows.map((r) => ({
    shop: String(r.shop),
    checkoutToken: String(r.checkout_token),
    workflowId: r.workflow_id ? String(r.workflow_id) : null,
    segment: r.segment ? String(r.segment) : null,
    controlGroup: num(r.control_group) === 1,
    abandonedAt: String(r.abandoned_at),
    cartValue: r.currency
      ? {
          currency: String(r.currency),
          amount: fromMicros(String(r.cart_value_micros ?? 0), String(r.currency)),
        }
      : null,
    touchesSent: num(r.touches_sent),
    clicked: num(r.touches_clicked) > 0,
    outcome: r.outcome ? String(r.outcome) : null,
    revenue:
      r.converted_at && r.revenue_currency
        ? {
            currency: String(r.revenue_currency),
            amount: fromMicros(String(r.revenue_micros ?? 0), String(r.revenue_currency)),
          }
        : null,
  }));
}

/**
 * The metrics store: one interface over the app database (SQLite or PostgreSQL, same SQL).
 *
 * Recording is idempotent by business key: `metric_events` and `metric_engagement` accept a key
 * once, and only a first acceptance changes anything. Each change to a cart (its abandonment,
 * touches, opens, clicks, order) recomputes that cart's contribution to the daily rollups and
 * applies the difference, in the same transaction, so facts may arrive in any order and the
 * rollups always equal what the base tables say.
 *
 * Rollup days are calendar days in one time zone (METRICS_TIMEZONE), recorded beside the rollups;
 * a store opened with another zone rebuilds every rollup from the base tables once.
 */
import { z } from 'zod';
import type { Database } from '../db';
import { migrate } from '../db';
import type { EngagementKind, MetricEvent } from '../workflows/contracts';
import { SEGMENTS, type Segment } from '../workflows/policy';
import { assertCurrency, dividedBy, fromMicros, InvalidMoneyError, toMicros } from '../workflows/money';
import { METRICS_COMPONENT, metricsMigrations } from './migrations';
import { addDays, dayInZone, startOfDayInZone } from './days';

export class InvalidMetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetricError';
  }
}

export type RecordResult = 'recorded' | 'duplicate';

/** An open or click joined to one of our touches. `sourceId` is unique within `source`. */
export interface EngagementFact {
  source: string;
  sourceId: string;
  kind: EngagementKind;
  shop: string;
  checkoutToken: string;
  touch: number;
  at: string;
  /** Apple Mail Privacy Protection open: the mail app fetched the pixel, maybe not a person. */
  privacyOpen?: boolean;
}

/** What the click redirect and the engagement join need about a sent touch. */
export interface TouchLink {
  shop: string;
  checkoutToken: string;
  touch: number;
  restoreUrl: string;
  /** Keyed hash of the recipient's email (never the email itself), to join Klaviyo opens. */
  recipientHash: string | null;
  at: string;
}

export interface TouchRef {
  shop: string;
  checkoutToken: string;
  touch: number;
}

export interface MetricsFilter {
  shop?: string;
  /** First cohort day, YYYY-MM-DD in the store's time zone, inclusive. */
  from: string;
  /** Last cohort day, YYYY-MM-DD in the store's time zone, inclusive. */
  to: string;
  /** Rows of `recentCarts` (default 20). */
  recentLimit?: number;
}

export interface Money {
  currency: string;
  amount: string;
}

export interface Rate {
  count: number;
  of: number;
  /** count / of, or null when `of` is 0. */
  rate: number | null;
}

export interface SegmentFigures {
  segment: Segment;
  carts: number;
  emailed: number;
  sent: number;
  opens: Rate;
  humanOpens: Rate;
  clicks: Rate;
  /** Recovered carts over emailed carts. */
  conversions: Rate;
  revenue: Money[];
}

export interface TouchFigures {
  touch: number;
  sent: number;
  opens: Rate;
  humanOpens: Rate;
  clicks: Rate;
  /** Orders attributed to this touch over touches sent. */
  conversions: Rate;
  revenue: Money[];
}

export interface RecentCart {
  shop: string;
  checkoutToken: string;
  workflowId: string | null;
  segment: string | null;
  controlGroup: boolean;
  abandonedAt: string;
  cartValue: Money | null;
  touchesSent: number;
  clicked: boolean;
  outcome: string | null;
  revenue: Money | null;
}

export interface MetricsSummary {
  /** `timeZone`: the IANA zone of `from`, `to` and every day in the summary. */
  filter: { shop: string | null; from: string; to: string; timeZone: string };
  headline: {
    /** Every cart abandoned in the range, control group included. */
    abandoned: number;
    /** Carts not held out as control group. */
    treated: number;
    emailed: number;
    emailsSent: number;
    recovered: number;
    /** Recovered over treated carts. */
    recoveryRate: Rate;
    revenue: Money[];
    /** Revenue over emailed carts, per currency. */
    revenuePerRecipient: Money[];
  };
  /** Present when the control group has members in the range. */
  control: {
    carts: number;
    recovered: number;
    recoveryRate: Rate;
    treatedRecoveryRate: Rate;
    /** Treated minus control recovery rate, in percentage points. */
    liftPoints: number | null;
    /** (treated - control) / control, or null when the control rate is 0. */
    liftRelative: number | null;
    /** Recoveries beyond what the control rate predicts for the treated carts. */
    incrementalRecoveries: number | null;
  } | null;
  funnel: { abandoned: number; emailed: number; clicked: number; recovered: number };
  bySegment: SegmentFigures[];
  byTouch: TouchFigures[];
  /** Recovered revenue of the range's carts by the day of the order (in the store's zone). */
  revenueByDay: { day: string; currency: string; amount: string; recovered: number }[];
  recentCarts: RecentCart[];
  currencies: string[];
}

export interface MetricsStore {
  /** The IANA zone whose calendar days key the rollups and the summary's date range. */
  readonly timeZone: string;
  record(event: MetricEvent): Promise<RecordResult>;
  recordEngagement(fact: EngagementFact): Promise<RecordResult>;
  registerLink(link: TouchLink): Promise<void>;
  findLink(ref: TouchRef): Promise<TouchLink | undefined>;
  /** The latest touch sent to this recipient in [since, at], for joining an open to a touch. */
  latestTouchForRecipient(recipientHash: string, at: string, since: string): Promise<TouchRef | undefined>;
  syncedUntil(source: string): Promise<string | undefined>;
  /** Moves the source's watermark forward (never back). */
  markSynced(source: string, until: string): Promise<void>;
  summary(filter: MetricsFilter): Promise<MetricsSummary>;
  shops(): Promise<string[]>;
  /**
   * Erasure request for a customer (e.g. Shopify's `customers/redact`): forgets the recipient
   * hash and the restore links of their touches; counts stay (they hold no personal data).
   * Returns the number of touch links redacted.
   */
  redactRecipient(recipientHash: string): Promise<number>;
  /**
   * Shopify's `shop/redact` (48 h after uninstall): deletes every metrics row of the shop, facts
   * and rollups alike. Returns the number of rows deleted.
   */
  eraseShop(shop: string): Promise<number>;
  /**
   * Erasure request naming orders (`orders_to_redact` of `customers/redact`): forgets those
   * order ids in the shop's converted carts and facts; revenue and counts stay. Returns the
   * number of rows changed.
   */
  redactOrders(shop: string, orderIds: readonly string[]): Promise<number>;
  /** Touch links still registered for this recipient (answering a customer's data request). */
  linksForRecipient(recipientHash: string): Promise<TouchLink[]>;
}

/** Every metrics table with a `shop` column (`metric_sync_state` is per source, not per shop). */
const SHOP_TABLES = [
  'metric_events',
  'metric_carts',
  'metric_touches',
  'metric_engagement',
  'metric_touch_links',
  'metric_daily_carts',
  'metric_daily_touches',
  'metric_daily_revenue',
] as const;

// ---------------------------------------------------------------------------------------------
// Validation of incoming facts

const isoTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 time');
const text = z.string().trim().min(1, 'expected a non-empty value');
const segment = z.enum(SEGMENTS as [Segment, ...Segment[]]);
const touchNumber = z.number().int().min(1, 'expected a touch number from 1');
const base = { key: text, shop: text, checkoutToken: text, at: isoTime };
const metricEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('abandoned'),
    ...base,
    workflowId: text,
    segment,
    cartValue: z.string(),
    currency: z.string(),
    controlGroup: z.boolean(),
  }),
  z.object({
    kind: z.literal('touch_sent'),
    ...base,
    touch: touchNumber,
    segment,
    discountPercent: z.number().min(0).max(100),
  }),
  z.object({ kind: z.literal('ticket_created'), ...base, ticketId: text }),
  z.object({
    kind: z.literal('converted'),
    ...base,
    orderId: text,
    revenue: z.string(),
    currency: z.string(),
    attributedTouch: touchNumber.nullable(),
    segment: segment.nullable(),
    controlGroup: z.boolean(),
  }),
  z.object({ kind: z.literal('outcome'), ...base, outcome: text }),
]);

function validate(event: MetricEvent): MetricEvent {
  const parsed = metricEventSchema.safeParse(event);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
    throw new InvalidMetricError(`invalid metric event (${where})`);
  }
  try {
    if ('currency' in event) assertCurrency(event.currency);
    if (event.kind === 'abandoned') toMicros(event.cartValue);
    if (event.kind === 'converted') toMicros(event.revenue);
  } catch (err) {
    if (err instanceof InvalidMoneyError)
      throw new InvalidMetricError(`invalid metric event: ${err.message}`);
    throw err;
  }
  return event;
}

const iso = (t: string) => new Date(t).toISOString();

// ---------------------------------------------------------------------------------------------
// Rollup contributions of one cart

interface CartRow {
  shop: string;
  checkout_token: string;
  segment: string | null;
  control_group: number;
  cart_value_micros: number | string | null;
  currency: string | null;
  abandoned_at: string | null;
  revenue_micros: number | string | null;
  revenue_currency: string | null;
  converted_at: string | null;
  attributed_touch: number | null;
}

interface TouchRow {
  touch: number;
  sent_at: string | null;
  opened_at: string | null;
  human_opened_at: string | null;
  clicked_at: string | null;
}

type RollupTable = 'metric_daily_carts' | 'metric_daily_touches' | 'metric_daily_revenue';
interface Contribution {
  table: RollupTable;
  key: Record<string, string | number>;
  counters: Record<string, number>;
}

const ROLLUP_KEYS: Record<RollupTable, string[]> = {
  metric_daily_carts: ['shop', 'day', 'segment', 'control_group', 'currency'],
  metric_daily_touches: ['shop', 'day', 'segment', 'touch', 'currency'],
  metric_daily_revenue: ['shop', 'day', 'order_day', 'currency'],
};

function contributions(
  cart: CartRow | undefined,
  touches: TouchRow[],
  timeZone: string,
): Map<string, Contribution> {
  const out = new Map<string, Contribution>();
  if (!cart?.abandoned_at || !cart.currency || !cart.segment) return out;
  const add = (
    table: RollupTable,
    key: Record<string, string | number>,
    counters: Record<string, number>,
  ) => {
    const id = `${table}|${ROLLUP_KEYS[table].map((k) => String(key[k])).join('|')}`;
    const entry = out.get(id) ?? { table, key, counters: {} };
    for (const [name, value] of Object.entries(counters))
      entry.counters[name] = (entry.counters[name] ?? 0) + value;
    out.set(id, entry);
  };
  const day = dayInZone(cart.abandoned_at, timeZone);
  const control = cart.control_group ? 1 : 0;
  const sent = touches.filter((t) => t.sent_at);
  const converted = cart.converted_at !== null && cart.revenue_currency !== null;
  const cartKey = { shop: cart.shop, day, segment: cart.segment, control_group: control };
  add(
    'metric_daily_carts',
    { ...cartKey, currency: cart.currency },
    {
      abandoned: 1,
      emailed: sent.length > 0 ? 1 : 0,
      opened: sent.some((t) => t.opened_at) ? 1 : 0,
      clicked: sent.some((t) => t.clicked_at) ? 1 : 0,
      recovered: converted ? 1 : 0,
      cart_value_micros: Number(cart.cart_value_micros ?? 0),
    },
  );
  if (converted) {
    add(
      'metric_daily_carts',
      { ...cartKey, currency: cart.revenue_currency! },
      {
        revenue_micros: Number(cart.revenue_micros ?? 0),
      },
    );
  }
  // Control-group carts are never emailed: they count in the cart rollup only.
  if (control) return out;
  for (const t of sent) {
    const touchKey = { shop: cart.shop, day, segment: cart.segment, touch: t.touch };
    const attributed = converted && cart.attributed_touch === t.touch;
    add(
      'metric_daily_touches',
      { ...touchKey, currency: cart.currency },
      {
        sent: 1,
        opened: t.opened_at ? 1 : 0,
        human_opened: t.human_opened_at ? 1 : 0,
        clicked: t.clicked_at ? 1 : 0,
        converted: attributed ? 1 : 0,
      },
    );
    if (attributed) {
      add(
        'metric_daily_touches',
        { ...touchKey, currency: cart.revenue_currency! },
        {
          revenue_micros: Number(cart.revenue_micros ?? 0),
        },
      );
    }
  }
  if (converted) {
    add(
      'metric_daily_revenue',
      {
        shop: cart.shop,
        day,
        order_day: dayInZone(cart.converted_at!, timeZone),
        currency: cart.revenue_currency!,
      },
      { recovered: 1, revenue_micros: Number(cart.revenue_micros ?? 0) },
    );
  }
  return out;
}

async function applyDelta(tx: Database, before: Map<string, Contribution>, after: Map<string, Contribution>) {
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(id);
    const a = after.get(id);
    const { table, key } = (a ?? b)!;
    const names = new Set([...Object.keys(b?.counters ?? {}), ...Object.keys(a?.counters ?? {})]);
    const delta: Record<string, number> = {};
    for (const n of names) {
      const d = (a?.counters[n] ?? 0) - (b?.counters[n] ?? 0);
      if (d !== 0) delta[n] = d;
    }
    const counters = Object.keys(delta);
    if (counters.length === 0) continue;
    const keys = ROLLUP_KEYS[table];
    const columns = [...keys, ...counters];
    const params = [...keys.map((k) => key[k]), ...counters.map((c) => delta[c])];
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${counters
         .map((c) => `${c} = ${table}.${c} + excluded.${c}`)
         .join(', ')}`,
      params,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The store

export interface MetricsStoreOptions {
  /** IANA zone of the rollups' calendar days (config.metrics.timeZone). */
  timeZone: string;
}

/**
 * Migrates the metrics schema and, when the rollups were built in another zone than `timeZone`,
 * rebuilds them (see `rebuildRollups`) before the store is used.
 */
export async function openMetricsStore(db: Database, options: MetricsStoreOptions): Promise<MetricsStore> {
  await migrate(db, METRICS_COMPONENT, metricsMigrations);
  await rebuildRollups(db, options.timeZone);
  return new SqlMetricsStore(db, options.timeZone);
}

const ROLLUP_TABLES = Object.keys(ROLLUP_KEYS) as RollupTable[];

/**
 * Re-keys every rollup to the calendar days of `timeZone`, from the base tables, when the zone
 * recorded in `metric_rollup_state` differs; otherwise does nothing. One transaction: the
 * dashboard sees the old rollups or the new ones, never a mix. Carts are read `cartsPerPage` at
 * a time, so memory is bounded by a page and the rollups, not by the number of carts. Returns
 * whether it rebuilt.
 */
export async function rebuildRollups(db: Database, timeZone: string, cartsPerPage = 5_000): Promise<boolean> {
  const recordedZone = async (tx: Database) =>
    (await tx.query<{ value: string }>("SELECT value FROM metric_rollup_state WHERE name = 'time_zone'"))[0]
      ?.value;
  return db.transaction(async (tx) => {
    if ((await recordedZone(tx)) === timeZone) return false;
    if (tx.kind === 'postgres') {
      // Another process starting at the same time waits here, then finds the zone recorded; facts
      // recorded meanwhile wait for the rebuild rather than adding to rollups being replaced.
      await tx.run(
        `LOCK TABLE metric_rollup_state, metric_carts, metric_touches, ${ROLLUP_TABLES.join(', ')} IN EXCLUSIVE MODE`,
      );
      if ((await recordedZone(tx)) === timeZone) return false;
    }
    for (const table of ROLLUP_TABLES) await tx.run(`DELETE FROM ${table}`);
    // The sum of every cart's contribution, written as one delta over empty rollups.
    const total = new Map<string, Contribution>();
    let after: [string, string] = ['', ''];
    for (;;) {
      const carts = await tx.query<CartRow>(
        `SELECT shop, checkout_token, segment, control_group, cart_value_micros, currency, abandoned_at,
                revenue_micros, revenue_currency, converted_at, attributed_touch
           FROM metric_carts WHERE (shop, checkout_token) > ($1, $2)
          ORDER BY shop, checkout_token LIMIT $3`,
        [...after, cartsPerPage],
      );
      const last = carts.at(-1);
      if (!last) break;
      const touchesByCart = new Map<string, TouchRow[]>();
      for (const t of await tx.query<TouchRow & { shop: string; checkout_token: string }>(
        `SELECT shop, checkout_token, touch, sent_at, opened_at, human_opened_at, clicked_at FROM metric_touches
          WHERE (shop, checkout_token) > ($1, $2) AND (shop, checkout_token) <= ($3, $4)`,
        [...after, last.shop, last.checkout_token],
      )) {
        const id = `${t.shop}\n${t.checkout_token}`;
        const list = touchesByCart.get(id) ?? [];
        list.push({ ...t, touch: Number(t.touch) });
        touchesByCart.set(id, list);
      }
      for (const cart of carts) {
        const touches = touchesByCart.get(`${cart.shop}\n${cart.checkout_token}`) ?? [];
        for (const [id, c] of contributions(cart, touches, timeZone)) {
          const entry = total.get(id) ?? { table: c.table, key: c.key, counters: {} };
          for (const [name, value] of Object.entries(c.counters))
            entry.counters[name] = (entry.counters[name] ?? 0) + value;
          total.set(id, entry);
        }
      }
      after = [last.shop, last.checkout_token];
    }
    await applyDelta(tx, new Map(), total);
    await tx.run(
      `INSERT INTO metric_rollup_state (name, value) VALUES ('time_zone', $1)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [timeZone],
    );
    return true;
  });
}

const rate = (count: number, of: number): Rate => ({ count, of, rate: of > 0 ? count / of : null });
type Cell = string | number | null;
type Row = Record<string, Cell>;
const num = (v: Cell | undefined) => Number(v ?? 0);

class SqlMetricsStore implements MetricsStore {
  constructor(
    private readonly db: Database,
    readonly timeZone: string,
  ) {}

  /** Runs `change` on one cart with its rollup contribution kept in step. */
  private async changeCart(tx: Database, shop: string, checkoutToken: string, change: () => Promise<void>) {
    // PostgreSQL: serialise concurrent facts about the same cart (SQLite transactions already are).
    if (tx.kind === 'postgres') {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`metrics:${shop}:${checkoutToken}`]);
    }
    const before = contributions(...(await this.cartState(tx, shop, checkoutToken)), this.timeZone);
    await change();
    const after = contributions(...(await this.cartState(tx, shop, checkoutToken)), this.timeZone);
    await applyDelta(tx, before, after);
  }

  private async cartState(
    tx: Database,
    shop: string,
    checkoutToken: string,
  ): Promise<[CartRow | undefined, TouchRow[]]> {
    const [cart] = await tx.query<CartRow>(
      `SELECT shop, checkout_token, segment, control_group, cart_value_micros, currency, abandoned_at,
              revenue_micros, revenue_currency, converted_at, attributed_touch
         FROM metric_carts WHERE shop = $1 AND checkout_token = $2`,
      [shop, checkoutToken],
    );
    const touches = await tx.query<TouchRow>(
      `SELECT touch, sent_at, opened_at, human_opened_at, clicked_at
         FROM metric_touches WHERE shop = $1 AND checkout_token = $2`,
      [shop, checkoutToken],
    );
    return [cart, touches.map((t) => ({ ...t, touch: Number(t.touch) }))];
  }

  async record(input: MetricEvent): Promise<RecordResult> {
    const event = validate(input);
    const shop = event.shop.trim().toLowerCase();
    const token = event.checkoutToken.trim();
    const at = iso(event.at);
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO metric_events (key, kind, shop, checkout_token, at, payload, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
        [event.key, event.kind, shop, token, at, JSON.stringify(event), new Date().toISOString()],
      );
      if (inserted.changes === 0) return 'duplicate';
      await this.changeCart(tx, shop, token, async () => {
        switch (event.kind) {
          case 'abandoned':
            await tx.run(
              `INSERT INTO metric_carts (shop, checkout_token, workflow_id, segment, control_group, cart_value_micros, currency, abandoned_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (shop, checkout_token) DO UPDATE SET workflow_id = excluded.workflow_id,
                 segment = excluded.segment, control_group = excluded.control_group,
                 cart_value_micros = excluded.cart_value_micros, currency = excluded.currency,
                 abandoned_at = excluded.abandoned_at`,
              [
                shop,
                token,
                event.workflowId,
                event.segment,
                event.controlGroup ? 1 : 0,
                toMicros(event.cartValue),
                assertCurrency(event.currency),
                at,
              ],
            );
            break;
          case 'touch_sent':
            await tx.run(
              `INSERT INTO metric_touches (shop, checkout_token, touch, segment, discount_percent, sent_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (shop, checkout_token, touch) DO UPDATE SET segment = excluded.segment,
                 discount_percent = excluded.discount_percent, sent_at = excluded.sent_at`,
              [shop, token, event.touch, event.segment, event.discountPercent, at],
            );
            break;
          case 'ticket_created':
            await tx.run(
              `INSERT INTO metric_carts (shop, checkout_token, ticket_id) VALUES ($1, $2, $3)
               ON CONFLICT (shop, checkout_token) DO UPDATE SET ticket_id = excluded.ticket_id`,
              [shop, token, event.ticketId],
            );
            break;
          case 'converted':
            await tx.run(
              `INSERT INTO metric_carts (shop, checkout_token, segment, control_group, order_id, revenue_micros, revenue_currency, converted_at, attributed_touch)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (shop, checkout_token) DO UPDATE SET order_id = excluded.order_id,
                 revenue_micros = excluded.revenue_micros, revenue_currency = excluded.revenue_currency,
                 converted_at = excluded.converted_at, attributed_touch = excluded.attributed_touch,
                 segment = COALESCE(metric_carts.segment, excluded.segment)`,
              [
                shop,
                token,
                event.segment,
                event.controlGroup ? 1 : 0,
                event.orderId,
                toMicros(event.revenue),
                assertCurrency(event.currency),
                at,
                event.attributedTouch,
              ],
            );
            break;
          case 'outcome':
            await tx.run(
              `INSERT INTO metric_carts (shop, checkout_token, outcome, outcome_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (shop, checkout_token) DO UPDATE SET outcome = excluded.outcome, outcome_at = excluded.outcome_at`,
              [shop, token, event.outcome, at],
            );
            break;
        }
      });
      return 'recorded';
    });
  }

  async recordEngagement(fact: EngagementFact): Promise<RecordResult> {
    if (!fact.source || !fact.sourceId)
      throw new InvalidMetricError('engagement: expected a source and a source id');
    if (!Number.isInteger(fact.touch) || fact.touch < 1)
      throw new InvalidMetricError('engagement: expected a touch number');
    if (Number.isNaN(Date.parse(fact.at)))
      throw new InvalidMetricError(`engagement: expected an ISO-8601 time (got "${fact.at}")`);
    const shop = fact.shop.trim().toLowerCase();
    const token = fact.checkoutToken.trim();
    const at = iso(fact.at);
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO metric_engagement (source, source_id, kind, shop, checkout_token, touch, at, privacy_open, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source, source_id) DO NOTHING`,
        [
          fact.source,
          fact.sourceId,
          fact.kind,
          shop,
          token,
          fact.touch,
          at,
          fact.privacyOpen ? 1 : 0,
          new Date().toISOString(),
        ],
      );
      if (inserted.changes === 0) return 'duplicate';
      // The earliest open / click of a touch counts; later ones change nothing.
      const earliest = (column: string) =>
        `${column} = CASE WHEN metric_touches.${column} IS NULL OR metric_touches.${column} > excluded.${column} THEN excluded.${column} ELSE metric_touches.${column} END`;
      await this.changeCart(tx, shop, token, async () => {
        if (fact.kind === 'click') {
          await tx.run(
            `INSERT INTO metric_touches (shop, checkout_token, touch, clicked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (shop, checkout_token, touch) DO UPDATE SET ${earliest('clicked_at')}`,
            [shop, token, fact.touch, at],
          );
        } else {
          const human = fact.privacyOpen ? null : at;
          await tx.run(
            `INSERT INTO metric_touches (shop, checkout_token, touch, opened_at, human_opened_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (shop, checkout_token, touch) DO UPDATE SET ${earliest('opened_at')},
               human_opened_at = CASE WHEN excluded.human_opened_at IS NULL THEN metric_touches.human_opened_at
                 WHEN metric_touches.human_opened_at IS NULL OR metric_touches.human_opened_at > excluded.human_opened_at
                 THEN excluded.human_opened_at ELSE metric_touches.human_opened_at END`,
            [shop, token, fact.touch, at, human],
          );
        }
      });
      return 'recorded';
    });
  }

  async registerLink(link: TouchLink): Promise<void> {
    await this.db.run(
      `INSERT INTO metric_touch_links (shop, checkout_token, touch, restore_url, recipient_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (shop, checkout_token, touch) DO UPDATE SET restore_url = excluded.restore_url,
         recipient_hash = COALESCE(excluded.recipient_hash, metric_touch_links.recipient_hash)`,
      [
        link.shop.trim().toLowerCase(),
        link.checkoutToken.trim(),
        link.touch,
        link.restoreUrl,
        link.recipientHash,
        iso(link.at),
      ],
    );
  }

  async findLink(ref: TouchRef): Promise<TouchLink | undefined> {
    const [row] = await this.db.query<{
      restore_url: string;
      recipient_hash: string | null;
      created_at: string;
    }>(
      `SELECT restore_url, recipient_hash, created_at FROM metric_touch_links
        WHERE shop = $1 AND checkout_token = $2 AND touch = $3`,
      [ref.shop.trim().toLowerCase(), ref.checkoutToken.trim(), ref.touch],
    );
    return row
      ? { ...ref, restoreUrl: row.restore_url, recipientHash: row.recipient_hash, at: row.created_at }
      : undefined;
  }

  async latestTouchForRecipient(
    recipientHash: string,
    at: string,
    since: string,
  ): Promise<TouchRef | undefined> {
    const [row] = await this.db.query<{ shop: string; checkout_token: string; touch: number }>(
      `SELECT shop, checkout_token, touch FROM metric_touch_links
        WHERE recipient_hash = $1 AND created_at <= $2 AND created_at >= $3
        ORDER BY created_at DESC LIMIT 1`,
      [recipientHash, iso(at), iso(since)],
    );
    return row ? { shop: row.shop, checkoutToken: row.checkout_token, touch: Number(row.touch) } : undefined;
  }

  async syncedUntil(source: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ synced_until: string }>(
      'SELECT synced_until FROM metric_sync_state WHERE source = $1',
      [source],
    );
    return row?.synced_until;
  }

  async markSynced(source: string, until: string): Promise<void> {
    await this.db.run(
      `INSERT INTO metric_sync_state (source, synced_until, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (source) DO UPDATE SET updated_at = excluded.updated_at,
         synced_until = CASE WHEN excluded.synced_until > metric_sync_state.synced_until
                             THEN excluded.synced_until ELSE metric_sync_state.synced_until END`,
      [source, iso(until), new Date().toISOString()],
    );
  }

  async redactRecipient(recipientHash: string): Promise<number> {
    const { changes } = await this.db.run(
      "UPDATE metric_touch_links SET recipient_hash = NULL, restore_url = '' WHERE recipient_hash = $1",
      [recipientHash],
    );
    return changes;
  }

  async eraseShop(shop: string): Promise<number> {
    const normalised = shop.trim().toLowerCase();
    return this.db.transaction(async (tx) => {
      let deleted = 0;
      for (const table of SHOP_TABLES)
        deleted += (await tx.run(`DELETE FROM ${table} WHERE shop = $1`, [normalised])).changes;
      return deleted;
    });
  }

  async redactOrders(shop: string, orderIds: readonly string[]): Promise<number> {
    if (orderIds.length === 0) return 0;
    const normalised = shop.trim().toLowerCase();
    const redacted = new Set(orderIds);
    return this.db.transaction(async (tx) => {
      let changed = 0;
      for (const orderId of redacted)
        changed += (
          await tx.run('UPDATE metric_carts SET order_id = NULL WHERE shop = $1 AND order_id = $2', [
            normalised,
            orderId,
          ])
        ).changes;
      // The fact keeps its payload as JSON text, the same on both dialects: rewrite it here.
      const facts = await tx.query<{ key: string; payload: string }>(
        "SELECT key, payload FROM metric_events WHERE shop = $1 AND kind = 'converted'",
        [normalised],
      );
      for (const fact of facts) {
        const payload = JSON.parse(fact.payload) as { orderId?: unknown };
        if (typeof payload.orderId !== 'string' || !redacted.has(payload.orderId)) continue;
        changed += (
          await tx.run('UPDATE metric_events SET payload = $2 WHERE key = $1', [
            fact.key,
            JSON.stringify({ ...payload, orderId: null }),
          ])
        ).changes;
      }
      return changed;
    });
  }

  async linksForRecipient(recipientHash: string): Promise<TouchLink[]> {
    const rows = await this.db.query<{
      shop: string;
      checkout_token: string;
      touch: number | string;
      restore_url: string;
      created_at: string;
    }>(
      `SELECT shop, checkout_token, touch, restore_url, created_at FROM metric_touch_links
        WHERE recipient_hash = $1 ORDER BY created_at, shop, checkout_token, touch`,
      [recipientHash],
    );
    return rows.map((r) => ({
      shop: r.shop,
      checkoutToken: r.checkout_token,
      touch: Number(r.touch),
      restoreUrl: r.restore_url,
      recipientHash,
      at: r.created_at,
    }));
  }

  async shops(): Promise<string[]> {
    const rows = await this.db.query<{ shop: string }>(
      'SELECT DISTINCT shop FROM metric_daily_carts ORDER BY shop',
    );
    return rows.map((r) => r.shop);
  }

  async summary(filter: MetricsFilter): Promise<MetricsSummary> {
    const shop = filter.shop ? filter.shop.trim().toLowerCase() : null;
    const where = `day >= $1 AND day <= $2${shop ? ' AND shop = $3' : ''}`;
    const params = shop ? [filter.from, filter.to, shop] : [filter.from, filter.to];

    const cartRows = await this.db.query<Row>(
      `SELECT segment, control_group, currency, SUM(abandoned) AS abandoned, SUM(emailed) AS emailed,
              SUM(opened) AS opened, SUM(clicked) AS clicked, SUM(recovered) AS recovered,
              CAST(SUM(revenue_micros) AS TEXT) AS revenue
         FROM metric_daily_carts WHERE ${where}
        GROUP BY segment, control_group, currency`,
      params,
    );
    const touchRows = await this.db.query<Row>(
      `SELECT segment, touch, currency, SUM(sent) AS sent, SUM(opened) AS opened, SUM(human_opened) AS human_opened,
              SUM(clicked) AS clicked, SUM(converted) AS converted, CAST(SUM(revenue_micros) AS TEXT) AS revenue
         FROM metric_daily_touches WHERE ${where}
        GROUP BY segment, touch, currency`,
      params,
    );
    const revenueRows = await this.db.query<Row>(
      `SELECT order_day, currency, SUM(recovered) AS recovered, CAST(SUM(revenue_micros) AS TEXT) AS revenue
         FROM metric_daily_revenue WHERE ${where}
        GROUP BY order_day, currency ORDER BY order_day, currency`,
      params,
    );
    const recent = await this.recentCarts(filter, shop);

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

    const bySegment: SegmentFigures[] = SEGMENTS.filter(
      (s) => segments.has(s) || bySegmentTouches.has(s),
    ).map((s) => {
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
    });

    return {
      filter: { shop, from: filter.from, to: filter.to, timeZone: this.timeZone },
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

  private async recentCarts(filter: MetricsFilter, shop: string | null): Promise<RecentCart[]> {
    const fromTime = new Date(startOfDayInZone(filter.from, this.timeZone)).toISOString();
    const toTime = new Date(startOfDayInZone(addDays(filter.to, 1), this.timeZone)).toISOString();
    const limit = Math.max(1, Math.min(filter.recentLimit ?? 20, 200));
    const rows = await this.db.query<Row>(
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
}

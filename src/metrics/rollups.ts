/**
 * The daily rollups: a cart's contribution to each rollup table, applied as a difference when a
 * fact about the cart changes it, and rebuilt from the base tables when the time zone changes.
 */
import type { Database } from '../db';
import { dayInZone } from './days';

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

/** Runs `change` on one cart with its rollup contribution kept in step. */
export async function changeCart(
  tx: Database,
  timeZone: string,
  shop: string,
  checkoutToken: string,
  change: () => Promise<void>,
) {
  // PostgreSQL: serialise concurrent facts about the same cart (SQLite transactions already are).
  if (tx.kind === 'postgres') {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`metrics:${shop}:${checkoutToken}`]);
  }
  const before = contributions(...(await cartState(tx, shop, checkoutToken)), timeZone);
  await change();
  const after = contributions(...(await cartState(tx, shop, checkoutToken)), timeZone);
  await applyDelta(tx, before, after);
}

async function cartState(
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

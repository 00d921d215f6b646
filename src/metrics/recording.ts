/**
 * Recording of facts (metric events, engagement, touch links, sync watermarks) and the
 * compliance erasures and redactions of what was recorded.
 */
import type { Database } from '../db';
import type { MetricEvent } from '../workflows/contracts';
import { InvalidMetricError, validate } from './event-schema';
import { assertCurrency, toMicros } from '../workflows/money';
import { changeCart } from './rollups';
import type { EngagementFact, RecordResult, TouchLink, TouchRef } from './types';

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

const iso = (t: string) => new Date(t).toISOString();

export async function record(db: Database, timeZone: string, input: MetricEvent): Promise<RecordResult> {
  const event = validate(input);
  const shop = event.shop.trim().toLowerCase();
  const token = event.checkoutToken.trim();
  const at = iso(event.at);
  return db.transaction(async (tx) => {
    const inserted = await tx.run(
      `INSERT INTO metric_events (key, kind, shop, checkout_token, at, payload, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
      [event.key, event.kind, shop, token, at, JSON.stringify(event), new Date().toISOString()],
    );
    if (inserted.changes === 0) return 'duplicate';
    await changeCart(tx, timeZone, shop, token, async () => {
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

export async function recordEngagement(
  db: Database,
  timeZone: string,
  fact: EngagementFact,
): Promise<RecordResult> {
  if (!fact.source || !fact.sourceId)
    throw new InvalidMetricError('engagement: expected a source and a source id');
  if (!Number.isInteger(fact.touch) || fact.touch < 1)
    throw new InvalidMetricError('engagement: expected a touch number');
  if (Number.isNaN(Date.parse(fact.at)))
    throw new InvalidMetricError(`engagement: expected an ISO-8601 time (got "${fact.at}")`);
  const shop = fact.shop.trim().toLowerCase();
  const token = fact.checkoutToken.trim();
  const at = iso(fact.at);
  return db.transaction(async (tx) => {
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
    await changeCart(tx, timeZone, shop, token, async () => {
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

export async function registerLink(db: Database, link: TouchLink): Promise<void> {
  await db.run(
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

export async function findLink(db: Database, ref: TouchRef): Promise<TouchLink | undefined> {
  const [row] = await db.query<{
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

export async function latestTouchForRecipient(
  db: Database,
  recipientHash: string,
  at: string,
  since: string,
): Promise<TouchRef | undefined> {
  const [row] = await db.query<{ shop: string; checkout_token: string; touch: number }>(
    `SELECT shop, checkout_token, touch FROM metric_touch_links
      WHERE recipient_hash = $1 AND created_at <= $2 AND created_at >= $3
      ORDER BY created_at DESC LIMIT 1`,
    [recipientHash, iso(at), iso(since)],
  );
  return row ? { shop: row.shop, checkoutToken: row.checkout_token, touch: Number(row.touch) } : undefined;
}

export async function syncedUntil(db: Database, source: string): Promise<string | undefined> {
  const [row] = await db.query<{ synced_until: string }>(
    'SELECT synced_until FROM metric_sync_state WHERE source = $1',
    [source],
  );
  return row?.synced_until;
}

export async function markSynced(db: Database, source: string, until: string): Promise<void> {
  await db.run(
    `INSERT INTO metric_sync_state (source, synced_until, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (source) DO UPDATE SET updated_at = excluded.updated_at,
       synced_until = CASE WHEN excluded.synced_until > metric_sync_state.synced_until
                           THEN excluded.synced_until ELSE metric_sync_state.synced_until END`,
    [source, iso(until), new Date().toISOString()],
  );
}

export async function redactRecipient(db: Database, recipientHash: string): Promise<number> {
  const { changes } = await db.run(
    "UPDATE metric_touch_links SET recipient_hash = NULL, restore_url = '' WHERE recipient_hash = $1",
    [recipientHash],
  );
  return changes;
}

export async function eraseShop(db: Database, shop: string): Promise<number> {
  const normalised = shop.trim().toLowerCase();
  return db.transaction(async (tx) => {
    let deleted = 0;
    for (const table of SHOP_TABLES)
      deleted += (await tx.run(`DELETE FROM ${table} WHERE shop = $1`, [normalised])).changes;
    return deleted;
  });
}

export async function redactOrders(db: Database, shop: string, orderIds: readonly string[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  const normalised = shop.trim().toLowerCase();
  const redacted = new Set(orderIds);
  return db.transaction(async (tx) => {
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

export async function linksForRecipient(db: Database, recipientHash: string): Promise<TouchLink[]> {
  const rows = await db.query<{
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

/**
 * Schema of the metrics store (component 'metrics' in `schema_migrations`). Released migrations
 * are never edited: add a new version instead.
 *
 * Base tables hold one row per fact (idempotent by business key); the `metric_daily_*` rollups
 * hold the dashboard's counters per cohort day (the calendar day the cart was abandoned, in the
 * zone recorded in `metric_rollup_state`), kept up to date in the same transaction as each fact
 * so that the dashboard reads a few hundred rows however many touches were recorded.
 */
import type { Migration } from '../db';

const tables = (bigint: string) => `
CREATE TABLE metric_events (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  shop TEXT NOT NULL,
  checkout_token TEXT NOT NULL,
  at TEXT NOT NULL,
  payload TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE TABLE metric_carts (
  shop TEXT NOT NULL,
  checkout_token TEXT NOT NULL,
  workflow_id TEXT,
  segment TEXT,
  control_group INTEGER NOT NULL DEFAULT 0,
  cart_value_micros ${bigint},
  currency TEXT,
  abandoned_at TEXT,
  order_id TEXT,
  revenue_micros ${bigint},
  revenue_currency TEXT,
  converted_at TEXT,
  attributed_touch INTEGER,
  ticket_id TEXT,
  outcome TEXT,
  outcome_at TEXT,
  PRIMARY KEY (shop, checkout_token)
);
CREATE INDEX metric_carts_abandoned ON metric_carts (abandoned_at);
CREATE INDEX metric_carts_shop_abandoned ON metric_carts (shop, abandoned_at);
CREATE TABLE metric_touches (
  shop TEXT NOT NULL,
  checkout_token TEXT NOT NULL,
  touch INTEGER NOT NULL,
  segment TEXT,
  discount_percent INTEGER,
  sent_at TEXT,
  opened_at TEXT,
  human_opened_at TEXT,
  clicked_at TEXT,
  PRIMARY KEY (shop, checkout_token, touch)
);
CREATE TABLE metric_engagement (
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  shop TEXT NOT NULL,
  checkout_token TEXT NOT NULL,
  touch INTEGER NOT NULL,
  at TEXT NOT NULL,
  privacy_open INTEGER NOT NULL DEFAULT 0,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (source, source_id)
);
CREATE TABLE metric_touch_links (
  shop TEXT NOT NULL,
  checkout_token TEXT NOT NULL,
  touch INTEGER NOT NULL,
  restore_url TEXT NOT NULL,
  recipient_hash TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (shop, checkout_token, touch)
);
CREATE INDEX metric_touch_links_recipient ON metric_touch_links (recipient_hash, created_at);
CREATE TABLE metric_sync_state (
  source TEXT PRIMARY KEY,
  synced_until TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE metric_daily_carts (
  shop TEXT NOT NULL,
  day TEXT NOT NULL,
  segment TEXT NOT NULL,
  control_group INTEGER NOT NULL,
  currency TEXT NOT NULL,
  abandoned INTEGER NOT NULL DEFAULT 0,
  emailed INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  clicked INTEGER NOT NULL DEFAULT 0,
  recovered INTEGER NOT NULL DEFAULT 0,
  cart_value_micros ${bigint} NOT NULL DEFAULT 0,
  revenue_micros ${bigint} NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, day, segment, control_group, currency)
);
CREATE INDEX metric_daily_carts_day ON metric_daily_carts (day);
CREATE TABLE metric_daily_touches (
  shop TEXT NOT NULL,
  day TEXT NOT NULL,
  segment TEXT NOT NULL,
  touch INTEGER NOT NULL,
  currency TEXT NOT NULL,
  sent INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  human_opened INTEGER NOT NULL DEFAULT 0,
  clicked INTEGER NOT NULL DEFAULT 0,
  converted INTEGER NOT NULL DEFAULT 0,
  revenue_micros ${bigint} NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, day, segment, touch, currency)
);
CREATE INDEX metric_daily_touches_day ON metric_daily_touches (day);
CREATE TABLE metric_daily_revenue (
  shop TEXT NOT NULL,
  day TEXT NOT NULL,
  order_day TEXT NOT NULL,
  currency TEXT NOT NULL,
  recovered INTEGER NOT NULL DEFAULT 0,
  revenue_micros ${bigint} NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, day, order_day, currency)
);
CREATE INDEX metric_daily_revenue_day ON metric_daily_revenue (day);
`;

const rollupState = `
CREATE TABLE metric_rollup_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO metric_rollup_state (name, value) VALUES ('time_zone', 'UTC');
`;

export const METRICS_COMPONENT = 'metrics';

export const metricsMigrations: Migration[] = [
  {
    version: 1,
    description: 'metric facts, touch links, engagement, sync state and daily rollups',
    sqlite: tables('INTEGER'),
    postgres: tables('BIGINT'),
  },
  {
    version: 2,
    description: 'the time zone the daily rollups are keyed in (rollups before this were built in UTC)',
    sqlite: rollupState,
    postgres: rollupState,
  },
];

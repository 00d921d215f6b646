/**
 * The relay's tables (component `relay` of the app database), one migration per schema change.
 * A shipped migration never changes: a database that applied it must keep matching it.
 */
import { migrate, type Database, type Migration } from '../db';

/** Identical on both dialects: plain TEXT columns, no serial. */
const DATA_REQUESTS_TABLE = `
  CREATE TABLE relay_data_requests (
    shop TEXT NOT NULL,
    data_request_id TEXT NOT NULL,
    customer_id TEXT,
    email_hash TEXT,
    orders_requested TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (shop, data_request_id)
  );
  CREATE INDEX relay_deliveries_shop ON relay_deliveries (shop);
  CREATE INDEX relay_dead_letters_shop ON relay_dead_letters (shop);
`;

export const RELAY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'deliveries, dead letters, checkout routing index',
    sqlite: `
      CREATE TABLE relay_deliveries (
        delivery_key TEXT PRIMARY KEY,
        shop TEXT NOT NULL,
        topic TEXT NOT NULL,
        outcome TEXT NOT NULL,
        received_at TEXT NOT NULL
      );
      CREATE INDEX relay_deliveries_received_at ON relay_deliveries (received_at);
      CREATE TABLE relay_dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_key TEXT NOT NULL UNIQUE,
        shop TEXT NOT NULL,
        topic TEXT NOT NULL,
        reason TEXT NOT NULL,
        headers TEXT NOT NULL,
        body TEXT NOT NULL,
        body_encoding TEXT NOT NULL,
        received_at TEXT NOT NULL,
        replay_attempts INTEGER NOT NULL DEFAULT 0,
        replayed_at TEXT,
        replay_outcome TEXT
      );
      CREATE TABLE relay_checkouts (
        shop TEXT NOT NULL,
        checkout_token TEXT NOT NULL,
        checkout_id TEXT,
        cart_token TEXT,
        customer_id TEXT,
        email_hash TEXT,
        seen_at TEXT NOT NULL,
        closed_at TEXT,
        PRIMARY KEY (shop, checkout_token)
      );
      CREATE INDEX relay_checkouts_cart ON relay_checkouts (shop, cart_token);
      CREATE INDEX relay_checkouts_id ON relay_checkouts (shop, checkout_id);
      CREATE INDEX relay_checkouts_customer ON relay_checkouts (shop, customer_id);
      CREATE INDEX relay_checkouts_email ON relay_checkouts (shop, email_hash);
    `,
    postgres: `
      CREATE TABLE relay_deliveries (
        delivery_key TEXT PRIMARY KEY,
        shop TEXT NOT NULL,
        topic TEXT NOT NULL,
        outcome TEXT NOT NULL,
        received_at TEXT NOT NULL
      );
      CREATE INDEX relay_deliveries_received_at ON relay_deliveries (received_at);
      CREATE TABLE relay_dead_letters (
        id BIGSERIAL PRIMARY KEY,
        delivery_key TEXT NOT NULL UNIQUE,
        shop TEXT NOT NULL,
        topic TEXT NOT NULL,
        reason TEXT NOT NULL,
        headers TEXT NOT NULL,
        body TEXT NOT NULL,
        body_encoding TEXT NOT NULL,
        received_at TEXT NOT NULL,
        replay_attempts INTEGER NOT NULL DEFAULT 0,
        replayed_at TEXT,
        replay_outcome TEXT
      );
      CREATE TABLE relay_checkouts (
        shop TEXT NOT NULL,
        checkout_token TEXT NOT NULL,
        checkout_id TEXT,
        cart_token TEXT,
        customer_id TEXT,
        email_hash TEXT,
        seen_at TEXT NOT NULL,
        closed_at TEXT,
        PRIMARY KEY (shop, checkout_token)
      );
      CREATE INDEX relay_checkouts_cart ON relay_checkouts (shop, cart_token);
      CREATE INDEX relay_checkouts_id ON relay_checkouts (shop, checkout_id);
      CREATE INDEX relay_checkouts_customer ON relay_checkouts (shop, customer_id);
      CREATE INDEX relay_checkouts_email ON relay_checkouts (shop, email_hash);
    `,
  },
  {
    version: 2,
    description: 'compliance data requests; deliveries and dead letters by shop for shop erasure',
    sqlite: DATA_REQUESTS_TABLE,
    postgres: DATA_REQUESTS_TABLE,
  },
];

export async function migrateRelay(db: Database): Promise<number[]> {
  return migrate(db, 'relay', RELAY_MIGRATIONS);
}

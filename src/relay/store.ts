/**
 * The relay's own bookkeeping in the app database (component `relay`, tables in `migrations.ts`):
 *
 * - `relay_deliveries`: every webhook handed over (or deliberately dropped), by delivery key
 *   (`X-Shopify-Webhook-Id`), so a repeat has no further effect. A key is written only AFTER
 *   Temporal accepted the signals: a delivery that failed is retried by Shopify, not swallowed.
 * - `relay_dead_letters`: genuine deliveries that could not be used (reason, headers minus the
 *   signature, the raw body byte for byte), kept for `npm run dead-letters` to list and replay.
 * - `relay_checkouts`: what routing needs and webhooks do not carry: which checkouts belong to a
 *   cart token, a checkout id, a customer. Filled as `checkouts/*` webhooks pass. Emails are
 *   stored only as a SHA-256 hash (consent changes may name a customer by email alone).
 * - `relay_data_requests`: Shopify's `customers/data_request` compliance webhooks, kept until the
 *   merchant answers them (`npm run customer-data`); the email only as a SHA-256 hash.
 *
 * Compliance erasures (`customers/redact`, `shop/redact`) delete a customer's or a shop's rows
 * here, each in one transaction with the delivery record, so a delivery is recorded as handled
 * only once its erasure is durable.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db';

export function emailHash(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}

export interface DeadLetterInput {
  deliveryKey: string;
  shop: string;
  topic: string;
  reason: string;
  /** Received headers without the signature. */
  headers: Record<string, string>;
  rawBody: Buffer;
  receivedAt: string;
}

export interface DeadLetter {
  id: number;
  deliveryKey: string;
  shop: string;
  topic: string;
  reason: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  receivedAt: string;
  replayAttempts: number;
  replayedAt: string | null;
  replayOutcome: string | null;
}

interface DeadLetterRow {
  id: number | string;
  delivery_key: string;
  shop: string;
  topic: string;
  reason: string;
  headers: string;
  body: string;
  body_encoding: string;
  received_at: string;
  replay_attempts: number | string;
  replayed_at: string | null;
  replay_outcome: string | null;
}

export interface CheckoutIndexEntry {
  shop: string;
  checkoutToken: string;
  checkoutId: string | null;
  cartToken: string | null;
  customerId: string | null;
  email: string | null;
}

/** A customer named by a compliance webhook: by Shopify customer id, email, or both. */
export interface ComplianceCustomer {
  customerId: string | null;
  email: string | null;
}

export interface DataRequest {
  shop: string;
  dataRequestId: string;
  customerId: string | null;
  email: string | null;
  ordersRequested: string[];
  receivedAt: string;
}

export interface DeliveryRecord {
  deliveryKey: string;
  shop: string;
  topic: string;
  outcome: string;
  at: string;
}

/** Rows removed by an erasure, for the log and the answer (never the data itself). */
export interface ErasedRows {
  checkouts: number;
  deadLetters: number;
  dataRequests: number;
  deliveries: number;
}

/** What the relay holds about one customer, for answering a data request. */
export interface CustomerRecords {
  checkouts: {
    checkoutToken: string;
    checkoutId: string | null;
    cartToken: string | null;
    customerId: string | null;
    seenAt: string;
    closedAt: string | null;
  }[];
  dataRequests: {
    dataRequestId: string;
    customerId: string | null;
    ordersRequested: string[];
    receivedAt: string;
  }[];
}

/** Outcome kept for a delivery whose dead letter an erasure removed: pruned like any other. */
export const ERASED_OUTCOME = 'erased';

/** Outcome kept for a dead-lettered delivery: a repeat is a duplicate, a replay may overwrite it. */
export const DEAD_LETTER_OUTCOME = 'dead_letter';

export class RelayStore {
  constructor(readonly db: Database) {}

  /** The recorded outcome of a delivery key, or undefined when it was never handed over. */
  async deliveryOutcome(deliveryKey: string): Promise<string | undefined> {
    const rows = await this.db.query<{ outcome: string }>(
      'SELECT outcome FROM relay_deliveries WHERE delivery_key = $1',
      [deliveryKey],
    );
    return rows[0]?.outcome;
  }

  async recordDelivery(d: DeliveryRecord) {
    await this.db.run(
      `INSERT INTO relay_deliveries (delivery_key, shop, topic, outcome, received_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (delivery_key) DO UPDATE SET outcome = excluded.outcome`,
      [d.deliveryKey, d.shop, d.topic, d.outcome, d.at],
    );
  }

  /**
   * Store a dead letter and mark its delivery key handled, in one transaction. A repeat of the
   * same delivery keeps the first letter. Returns false when the letter already existed.
   */
  async addDeadLetter(letter: DeadLetterInput): Promise<boolean> {
    const utf8 = letter.rawBody.toString('utf8');
    const exact = Buffer.from(utf8, 'utf8').equals(letter.rawBody);
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO relay_dead_letters
           (delivery_key, shop, topic, reason, headers, body, body_encoding, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (delivery_key) DO NOTHING`,
        [
          letter.deliveryKey,
          letter.shop,
          letter.topic,
          letter.reason,
          JSON.stringify(letter.headers),
          exact ? utf8 : letter.rawBody.toString('base64'),
          exact ? 'utf8' : 'base64',
          letter.receivedAt,
        ],
      );
      await tx.run(
        `INSERT INTO relay_deliveries (delivery_key, shop, topic, outcome, received_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (delivery_key) DO NOTHING`,
        [letter.deliveryKey, letter.shop, letter.topic, DEAD_LETTER_OUTCOME, letter.receivedAt],
      );
      return inserted.changes > 0;
    });
  }

  async listDeadLetters(options: { pendingOnly?: boolean; ids?: number[]; limit?: number } = {}) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.pendingOnly) where.push('replayed_at IS NULL');
    if (options.ids && options.ids.length > 0) {
      where.push(`id IN (${options.ids.map((id) => `$${params.push(id)}`).join(', ')})`);
    }
    const limit = `$${params.push(options.limit ?? 1000)}`;
    const rows = await this.db.query<DeadLetterRow>(
      `SELECT * FROM relay_dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id LIMIT ${limit}`,
      params,
    );
    return rows.map(toDeadLetter);
  }

  async countPendingDeadLetters(): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM relay_dead_letters WHERE replayed_at IS NULL',
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** A replay handed the letter over (or deliberately dropped it): it is no longer pending. */
  async markReplayed(id: number, outcome: string, at: string) {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ delivery_key: string }>(
        'SELECT delivery_key FROM relay_dead_letters WHERE id = $1',
        [id],
      );
      await tx.run(
        `UPDATE relay_dead_letters
           SET replayed_at = $2, replay_outcome = $3, replay_attempts = replay_attempts + 1
         WHERE id = $1`,
        [id, at, outcome],
      );
      if (rows[0])
        await tx.run('UPDATE relay_deliveries SET outcome = $2 WHERE delivery_key = $1', [
          rows[0].delivery_key,
          outcome,
        ]);
    });
  }

  /** A replay failed again: keep the letter pending with the new reason. */
  async markReplayFailed(id: number, reason: string) {
    await this.db.run(
      'UPDATE relay_dead_letters SET reason = $2, replay_attempts = replay_attempts + 1 WHERE id = $1',
      [id, reason],
    );
  }

  /**
   * After Temporal answered: update the routing index (accepted checkouts remembered, closed ones
   * marked) and record the delivery key, in one transaction (one disk sync per delivery).
   */
  async recordHandOver(
    delivery: { deliveryKey: string; shop: string; topic: string; outcome: string; at: string },
    accepted: readonly CheckoutIndexEntry[],
    closed: readonly string[],
  ) {
    await this.db.transaction(async (tx) => {
      const inTx = new RelayStore(tx);
      for (const entry of accepted) await inTx.rememberCheckout(entry, delivery.at);
      for (const token of closed) await inTx.markCheckoutClosed(delivery.shop, token, delivery.at);
      await inTx.recordDelivery(delivery);
    });
  }

  /** Remember a checkout whose workflow Temporal accepted a signal for. */
  async rememberCheckout(entry: CheckoutIndexEntry, at: string) {
    await this.db.run(
      `INSERT INTO relay_checkouts
         (shop, checkout_token, checkout_id, cart_token, customer_id, email_hash, seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (shop, checkout_token) DO UPDATE SET
         checkout_id = COALESCE(excluded.checkout_id, relay_checkouts.checkout_id),
         cart_token = COALESCE(excluded.cart_token, relay_checkouts.cart_token),
         customer_id = COALESCE(excluded.customer_id, relay_checkouts.customer_id),
         email_hash = COALESCE(excluded.email_hash, relay_checkouts.email_hash),
         seen_at = excluded.seen_at`,
      [
        entry.shop,
        entry.checkoutToken,
        entry.checkoutId,
        entry.cartToken,
        entry.customerId,
        entry.email ? emailHash(entry.email) : null,
        at,
      ],
    );
  }

  /** Temporal answered that the checkout's workflow has closed: route nothing more to it. */
  async markCheckoutClosed(shop: string, checkoutToken: string, at: string) {
    await this.db.run(
      `INSERT INTO relay_checkouts (shop, checkout_token, seen_at, closed_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (shop, checkout_token) DO UPDATE SET closed_at = excluded.closed_at
       WHERE relay_checkouts.closed_at IS NULL`,
      [shop, checkoutToken, at],
    );
  }

  /** Open checkouts (seen since `since`) that match any of the given keys. */
  async openCheckouts(
    shop: string,
    by: {
      checkoutToken?: string | null;
      cartToken?: string | null;
      checkoutId?: string | null;
      customerId?: string | null;
      email?: string | null;
    },
    since: string,
  ): Promise<string[]> {
    const params: unknown[] = [shop, since];
    const keys: string[] = [];
    if (by.checkoutToken) keys.push(`checkout_token = $${params.push(by.checkoutToken)}`);
    if (by.cartToken) keys.push(`cart_token = $${params.push(by.cartToken)}`);
    if (by.checkoutId) keys.push(`checkout_id = $${params.push(by.checkoutId)}`);
    if (by.customerId) keys.push(`customer_id = $${params.push(by.customerId)}`);
    if (by.email) keys.push(`email_hash = $${params.push(emailHash(by.email))}`);
    if (keys.length === 0) return [];
    const rows = await this.db.query<{ checkout_token: string }>(
      `SELECT checkout_token FROM relay_checkouts
       WHERE shop = $1 AND closed_at IS NULL AND seen_at >= $2 AND (${keys.join(' OR ')})
       ORDER BY checkout_token`,
      params,
    );
    return rows.map((r) => r.checkout_token);
  }

  /**
   * `customers/redact`: forget the customer's routing rows, data requests and every dead letter
   * of the shop whose body names them, then record the delivery, in one transaction. Letters are
   * deleted rather than blanked: a letter exists only to be replayed, and replaying this
   * customer's webhook would bring their data back. Their delivery keys stay (marked erased)
   * so that a retry of such a delivery is still a duplicate.
   */
  async eraseCustomer(
    shop: string,
    customer: ComplianceCustomer,
    delivery: DeliveryRecord,
  ): Promise<ErasedRows> {
    return this.db.transaction(async (tx) => {
      const keys = customerKeys(customer);
      const checkouts = await tx.run(
        `DELETE FROM relay_checkouts WHERE shop = $1 AND (customer_id = $2 OR email_hash = $3)`,
        [shop, keys.customerId, keys.emailHash],
      );
      const dataRequests = await tx.run(
        `DELETE FROM relay_data_requests WHERE shop = $1 AND (customer_id = $2 OR email_hash = $3)`,
        [shop, keys.customerId, keys.emailHash],
      );
      const letters = await tx.query<Pick<DeadLetterRow, 'id' | 'delivery_key' | 'body' | 'body_encoding'>>(
        'SELECT id, delivery_key, body, body_encoding FROM relay_dead_letters WHERE shop = $1',
        [shop],
      );
      const mentions = mentionsOf(customer);
      let deadLetters = 0;
      for (const letter of letters) {
        const body =
          letter.body_encoding === 'base64'
            ? Buffer.from(letter.body, 'base64').toString('utf8')
            : letter.body;
        if (!mentions(body)) continue;
        deadLetters += (await tx.run('DELETE FROM relay_dead_letters WHERE id = $1', [letter.id])).changes;
        await tx.run('UPDATE relay_deliveries SET outcome = $2 WHERE delivery_key = $1', [
          letter.delivery_key,
          ERASED_OUTCOME,
        ]);
      }
      await new RelayStore(tx).recordDelivery(delivery);
      return { checkouts: checkouts.changes, deadLetters, dataRequests: dataRequests.changes, deliveries: 0 };
    });
  }

  /**
   * `shop/redact`: forget every row of the shop (routing index, dead letters, delivery keys,
   * data requests), then record this delivery alone so that a retry of it is a duplicate.
   */
  async eraseShop(shop: string, delivery: DeliveryRecord): Promise<ErasedRows> {
    return this.db.transaction(async (tx) => {
      const checkouts = await tx.run('DELETE FROM relay_checkouts WHERE shop = $1', [shop]);
      const deadLetters = await tx.run('DELETE FROM relay_dead_letters WHERE shop = $1', [shop]);
      const dataRequests = await tx.run('DELETE FROM relay_data_requests WHERE shop = $1', [shop]);
      const deliveries = await tx.run('DELETE FROM relay_deliveries WHERE shop = $1', [shop]);
      await new RelayStore(tx).recordDelivery(delivery);
      return {
        checkouts: checkouts.changes,
        deadLetters: deadLetters.changes,
        dataRequests: dataRequests.changes,
        deliveries: deliveries.changes,
      };
    });
  }

  /** Open checkouts of the shop (seen since `since`), for stopping their workflows. */
  async openCheckoutsOfShop(shop: string, since: string): Promise<string[]> {
    const rows = await this.db.query<{ checkout_token: string }>(
      `SELECT checkout_token FROM relay_checkouts
       WHERE shop = $1 AND closed_at IS NULL AND seen_at >= $2 ORDER BY checkout_token`,
      [shop, since],
    );
    return rows.map((r) => r.checkout_token);
  }

  /** `customers/data_request`: keep the request (a repeat keeps the first) and record the delivery. */
  async recordDataRequest(request: DataRequest, delivery: DeliveryRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO relay_data_requests
           (shop, data_request_id, customer_id, email_hash, orders_requested, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (shop, data_request_id) DO NOTHING`,
        [
          request.shop,
          request.dataRequestId,
          request.customerId,
          request.email ? emailHash(request.email) : null,
          JSON.stringify(request.ordersRequested),
          request.receivedAt,
        ],
      );
      await new RelayStore(tx).recordDelivery(delivery);
    });
  }

  /** Everything this store holds about a customer of the shop (by id or email). */
  async customerRecords(shop: string, customer: ComplianceCustomer): Promise<CustomerRecords> {
    const keys = customerKeys(customer);
    const checkouts = await this.db.query<{
      checkout_token: string;
      checkout_id: string | null;
      cart_token: string | null;
      customer_id: string | null;
      seen_at: string;
      closed_at: string | null;
    }>(
      `SELECT checkout_token, checkout_id, cart_token, customer_id, seen_at, closed_at FROM relay_checkouts
       WHERE shop = $1 AND (customer_id = $2 OR email_hash = $3) ORDER BY seen_at, checkout_token`,
      [shop, keys.customerId, keys.emailHash],
    );
    const requests = await this.db.query<{
      data_request_id: string;
      customer_id: string | null;
      orders_requested: string;
      received_at: string;
    }>(
      `SELECT data_request_id, customer_id, orders_requested, received_at FROM relay_data_requests
       WHERE shop = $1 AND (customer_id = $2 OR email_hash = $3) ORDER BY received_at, data_request_id`,
      [shop, keys.customerId, keys.emailHash],
    );
    return {
      checkouts: checkouts.map((r) => ({
        checkoutToken: r.checkout_token,
        checkoutId: r.checkout_id,
        cartToken: r.cart_token,
        customerId: r.customer_id,
        seenAt: r.seen_at,
        closedAt: r.closed_at,
      })),
      dataRequests: requests.map((r) => ({
        dataRequestId: r.data_request_id,
        customerId: r.customer_id,
        ordersRequested: JSON.parse(r.orders_requested) as string[],
        receivedAt: r.received_at,
      })),
    };
  }

  /** Forget delivery keys and closed or long-silent checkouts older than `before`. */
  async prune(
    deliveriesBefore: string,
    checkoutsBefore: string,
  ): Promise<{ deliveries: number; checkouts: number }> {
    const deliveries = await this.db.run(
      'DELETE FROM relay_deliveries WHERE received_at < $1 AND outcome <> $2',
      [deliveriesBefore, DEAD_LETTER_OUTCOME],
    );
    const checkouts = await this.db.run(
      'DELETE FROM relay_checkouts WHERE seen_at < $1 OR (closed_at IS NOT NULL AND closed_at < $2)',
      [checkoutsBefore, deliveriesBefore],
    );
    return { deliveries: deliveries.changes, checkouts: checkouts.changes };
  }
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: Number(r.id),
    deliveryKey: r.delivery_key,
    shop: r.shop,
    topic: r.topic,
    reason: r.reason,
    headers: JSON.parse(r.headers) as Record<string, string>,
    rawBody: r.body_encoding === 'base64' ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8'),
    receivedAt: r.received_at,
    replayAttempts: Number(r.replay_attempts),
    replayedAt: r.replayed_at,
    replayOutcome: r.replay_outcome,
  };
}

/** SQL parameters for a customer; a missing key is NULL, which matches no row. */
function customerKeys(c: ComplianceCustomer): { customerId: string | null; emailHash: string | null } {
  return { customerId: c.customerId, emailHash: c.email ? emailHash(c.email) : null };
}

/**
 * Does a raw webhook body name the customer? Their email anywhere (any case), or their id as a
 * whole number (not inside a longer one: ids of orders or line items may contain its digits).
 */
function mentionsOf(c: ComplianceCustomer): (body: string) => boolean {
  const email = c.email?.trim().toLowerCase() || null;
  const id = c.customerId
    ? new RegExp(`(?<![0-9A-Za-z])${c.customerId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`)
    : null;
  return (body) => (email !== null && body.toLowerCase().includes(email)) || (id !== null && id.test(body));
}

/**
 * Shopify's mandatory compliance webhooks, signed and delivered like the others:
 * `customers/redact` stops the customer's open carts and erases what the app holds about them,
 * `shop/redact` erases everything about the shop, `customers/data_request` is recorded for the
 * merchant to answer (`npm run customer-data`). Their answer is 200 only once the erasure or
 * the record is committed.
 */
import type { MetricsStore } from '../metrics/store';
import { logger } from '../logger';
import type { SendResult } from '../temporal/cart-client';
import { checkoutDeletedSignal, consentChangedSignal, type ConsentChanged } from '../workflows/messages';
import {
  invalid,
  NO_KEYS,
  ok,
  shopMismatch,
  target,
  type Envelope,
  type Erasure,
  type RelayAnswer,
  type Route,
} from './plan';
import { CustomerDataRequestPayload, CustomerRedactPayload, ShopRedactPayload } from './shopify-payloads';
import type { ErasedRows, RelayStore } from './store';
import type { COMPLIANCE_TOPICS } from './topics';

const customerRedact: Route = async (json, { topic, shop, at, open }) => {
  const parsed = CustomerRedactPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const otherShop = shopMismatch(shop, parsed.data.shop_domain);
  if (otherShop) return otherShop;
  const customer = { customerId: parsed.data.customer.id, email: parsed.data.customer.email };
  // A 'redacted' consent is an explicit refusal (src/workflows/eligibility.ts): the
  // sequence stops at its next step and sends nothing more.
  const redacted: ConsentChanged = { ...customer, state: 'redacted', at };
  const tokens = await open(customer);
  return {
    kind: 'erase',
    erasure: { of: 'customer', customer, orderIds: parsed.data.orders_to_redact },
    targets: tokens.map((t) => target(t, consentChangedSignal, redacted, NO_KEYS)),
  };
};

const shopRedact: Route = async (json, { topic, shop, at, openOfShop }) => {
  const parsed = ShopRedactPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const otherShop = shopMismatch(shop, parsed.data.shop_domain);
  if (otherShop) return otherShop;
  // A consent signal must name each cart's customer, and the index keeps a guest's email
  // only hashed; a deletion ends any open cart without naming anyone (outcome `deleted`).
  const tokens = await openOfShop();
  return {
    kind: 'erase',
    erasure: { of: 'shop' },
    targets: tokens.map((t) => target(t, checkoutDeletedSignal, { at }, NO_KEYS)),
  };
};

const customerDataRequest: Route = (json, { topic, shop }) => {
  const parsed = CustomerDataRequestPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const otherShop = shopMismatch(shop, parsed.data.shop_domain);
  if (otherShop) return otherShop;
  const p = parsed.data;
  return {
    kind: 'data_request',
    request: {
      shop,
      dataRequestId: p.data_request.id,
      customerId: p.customer.id,
      email: p.customer.email,
      ordersRequested: p.orders_requested,
    },
  };
};

export const COMPLIANCE_ROUTES: Readonly<Record<(typeof COMPLIANCE_TOPICS)[number], Route>> = {
  'customers/redact': customerRedact,
  'shop/redact': shopRedact,
  'customers/data_request': customerDataRequest,
};

export interface ErasureStores {
  store: RelayStore;
  /** Compliance erasures reach the metrics store's rows too (same database in production). */
  metricsStore: MetricsStore;
  /** The keyed hash under which the metrics store knows a recipient (src/metrics/links.ts). */
  recipientHash: (email: string) => string;
}

/**
 * After the customer's (or shop's) open carts accepted the signal that stops them: erase the
 * metrics rows, then the relay's rows together with the delivery record. A failure on the way
 * throws (503, Shopify retries); every step is idempotent, so the retry finishes the job.
 */
export async function erase(
  { store, metricsStore, recipientHash }: ErasureStores,
  envelope: Envelope,
  erasure: Erasure,
  results: SendResult[],
  at: string,
): Promise<RelayAnswer> {
  const delivery = { ...envelope, outcome: 'erased', at };
  let metricsRows: number;
  let relayRows: ErasedRows;
  if (erasure.of === 'customer') {
    // The metrics store knows recipients by keyed email hash only: no email, nothing to find.
    const email = erasure.customer.email;
    metricsRows = email ? await metricsStore.redactRecipient(recipientHash(email)) : 0;
    metricsRows += await metricsStore.redactOrders(envelope.shop, erasure.orderIds);
    relayRows = await store.eraseCustomer(envelope.shop, erasure.customer, delivery);
  } else {
    metricsRows = await metricsStore.eraseShop(envelope.shop);
    relayRows = await store.eraseShop(envelope.shop, delivery);
  }
  const workflows = results.map((r) => ({ workflowId: r.workflowId, accepted: r.accepted }));
  const erased = { ...relayRows, metrics: metricsRows };
  logger.info(`${erasure.of === 'customer' ? 'customer' : 'shop'} data erased`, {
    shop: envelope.shop,
    topic: envelope.topic,
    deliveryKey: envelope.deliveryKey,
    customerId: erasure.of === 'customer' ? erasure.customer.customerId : undefined,
    erased,
    workflows,
  });
  return ok('erased', { erased, workflows });
}

/**
 * What the relay makes of one delivery before any side effect: the envelope read from its
 * headers, the plan a topic's route draws up, and the answer Shopify gets.
 */
import type { SignalDefinition } from '@temporalio/common';
import type { ZodError } from 'zod';
import { normaliseShopDomain } from '../workflows/ids';
import { describeIssues } from './shopify-payloads';
import type { CheckoutIndexEntry, ComplianceCustomer, DataRequest, RelayStore } from './store';

export type DeliveryOutcome =
  | 'accepted' // Temporal accepted the signal(s)
  | 'closed' // every target workflow had already closed: nothing more to do
  | 'duplicate' // this delivery was handled before
  | 'no_open_checkout' // cart activity, deletion or consent change for no open checkout
  | 'unmatched_order' // an order carrying neither a checkout token nor a known cart token
  | 'ignored_topic' // a topic the relay does not use
  | 'erased' // a compliance erasure (customers/redact, shop/redact) is committed
  | 'recorded' // a customer's data request is kept for the merchant to answer
  | 'dead_letter' // genuine but unusable: stored for replay
  | 'unauthorized' // missing or wrong signature
  | 'too_large' // body over WEBHOOK_BODY_LIMIT
  | 'unavailable'; // Temporal or the database could not be reached: Shopify retries

export interface RelayAnswer {
  status: number;
  outcome: DeliveryOutcome;
  body: Record<string, unknown>;
}

/** What the relay knows about one delivery, from its headers. */
export interface Envelope {
  topic: string;
  shop: string;
  /** `X-Shopify-Webhook-Id`, or a hash of topic, shop and body when the header is missing. */
  deliveryKey: string;
  triggeredAt: string | null;
  /** Headers kept with a dead letter: every `x-shopify-*` header except the signature. */
  headers: Record<string, string>;
  rawBody: Buffer;
}

export interface Target<P = unknown> {
  checkoutToken: string;
  signal: SignalDefinition<[P]>;
  payload: P;
  /** Routing keys learnt from this delivery, remembered once Temporal accepted it. */
  remember: Omit<CheckoutIndexEntry, 'shop' | 'checkoutToken'>;
}

/** What a compliance webhook asks to erase: one customer of the shop, or the whole shop. */
export type Erasure = { of: 'customer'; customer: ComplianceCustomer; orderIds: string[] } | { of: 'shop' };

export type Plan =
  | { kind: 'signals'; targets: Target[] }
  | { kind: 'drop'; outcome: DeliveryOutcome; why: string }
  | { kind: 'dead_letter'; reason: string }
  | { kind: 'erase'; erasure: Erasure; targets: Target[] }
  | { kind: 'data_request'; request: Omit<DataRequest, 'receivedAt'> };

/** What a topic's route may use: the delivery's facts and look-ups of open checkouts, no writes. */
export interface RouteContext {
  topic: string;
  shop: string;
  /** When Shopify says the event happened, else when it reached us. */
  at: string;
  /** Open checkouts of the delivery's shop matching any of the keys. */
  open: (by: Parameters<RelayStore['openCheckouts']>[1]) => Promise<string[]>;
  /** Every open checkout of the delivery's shop. */
  openOfShop: () => Promise<string[]>;
}

/** One topic's parsing and routing: the JSON body in, a plan out. */
export type Route = (json: unknown, context: RouteContext) => Promise<Plan> | Plan;

/** Routing keys of a delivery that teaches the index nothing. */
export const NO_KEYS = { checkoutId: null, cartToken: null, customerId: null, email: null };

export function target<P>(
  checkoutToken: string,
  signal: SignalDefinition<[P]>,
  payload: P,
  remember: Target['remember'],
): Target {
  return { checkoutToken, signal, payload, remember };
}

export function signals(targets: Target[]): Plan {
  return { kind: 'signals', targets };
}

export function invalid(topic: string, error: ZodError): Plan {
  return { kind: 'dead_letter', reason: `invalid ${topic} payload: ${describeIssues(error)}` };
}

/**
 * A compliance payload naming another shop than its header: erasing under the header's shop
 * would miss the customer (or erase the wrong shop), so keep it for a look instead.
 */
export function shopMismatch(headerShop: string, payloadShop: string | null): Plan | undefined {
  if (payloadShop === null || normaliseShopDomain(payloadShop) === headerShop) return undefined;
  return { kind: 'dead_letter', reason: 'shop_domain in the payload differs from X-Shopify-Shop-Domain' };
}

export function ok(outcome: DeliveryOutcome, extra: Record<string, unknown>): RelayAnswer {
  return { status: 200, outcome, body: { status: outcome, ...extra } };
}

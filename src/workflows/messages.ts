/**
 * The public contract of the cart-recovery workflow: its input, the signals the webhook relay
 * sends, and the status query. Imported by the workflow and by its clients (the API, tests).
 * All payloads are plain JSON: times are ISO-8601 strings, money is a decimal string.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RecoveryPolicy, Segment } from './policy';

export interface LineItem {
  /** Shopify's line key, stable across updates of the same line. */
  key: string;
  productId: string | null;
  variantId: string | null;
  title: string;
  variantTitle: string | null;
  quantity: number;
  /** Unit price, decimal string. */
  price: string;
  /** quantity x price after line discounts, decimal string. */
  linePrice: string;
  sku: string | null;
}

/** A normalised `checkouts/create|update` payload. */
export interface CheckoutSnapshot {
  token: string;
  cartToken: string | null;
  email: string | null;
  customerId: string | null;
  firstName: string | null;
  lastName: string | null;
  /** `buyer_accepts_marketing` at checkout. */
  acceptsMarketing: boolean;
  lineItems: LineItem[];
  subtotalPrice: string;
  totalPrice: string;
  currency: string;
  /** `abandoned_checkout_url`: the restore link. */
  restoreUrl: string | null;
  updatedAt: string;
  completedAt: string | null;
}

export interface CartActivity {
  cartToken: string;
  at: string;
}

export interface OrderPlaced {
  orderId: string;
  totalPrice: string;
  currency: string;
  checkoutToken: string | null;
  cartToken: string | null;
  at: string;
}

/** Shopify's email marketing consent states (webhook spelling). */
export const CONSENT_STATES = [
  'subscribed',
  'not_subscribed',
  'unsubscribed',
  'pending',
  'redacted',
  'invalid',
] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];

export interface ConsentChanged {
  customerId: string | null;
  email: string | null;
  state: ConsentState;
  at: string;
}

export interface CheckoutDeleted {
  at: string;
}

export interface CartRecoveryInput {
  shop: string;
  checkoutToken: string;
  policy: RecoveryPolicy;
  /** Task queues of the vendor activities (paced separately from the workflow queue). */
  taskQueues: ActivityTaskQueues;
  /** State carried across continue-as-new; absent on the first run. */
  carried?: unknown;
}

export interface ActivityTaskQueues {
  klaviyo: string;
  /**
   * Klaviyo profile look-ups (enrichment), paced apart from events: profiles with predictive
   * analytics allow 10/s and 150/min, events 350/s. Absent in carts started before it existed:
   * they enrich on the `klaviyo` queue.
   */
  klaviyoProfiles?: string;
  shopify: string;
  gorgias: string;
  // The activities that run beside the workflows (the gate) take the workflow's own task queue;
  // carts started before this carry a `local` entry here, which is the same queue and unread.
}

export const checkoutUpdatedSignal = defineSignal<[CheckoutSnapshot]>('checkoutUpdated');
export const cartActivitySignal = defineSignal<[CartActivity]>('cartActivity');
export const orderPlacedSignal = defineSignal<[OrderPlaced]>('orderPlaced');
export const consentChangedSignal = defineSignal<[ConsentChanged]>('consentChanged');
export const checkoutDeletedSignal = defineSignal<[CheckoutDeleted]>('checkoutDeleted');

export type Stage =
  | 'watching' // waiting for the checkout to go quiet
  | 'sequence' // abandoned: touches being sent
  | 'attribution' // all touches sent, waiting for a late order
  | 'done';

export type Outcome =
  | 'converted_before_abandonment'
  /** Ordered after abandonment but before any touch went out (e.g. during quiet hours). */
  | 'converted_before_first_touch'
  | 'recovered'
  | 'not_recovered'
  | 'deleted'
  | 'completed_at_checkout'
  | 'no_email'
  | 'empty_cart'
  | 'no_consent'
  | 'suppressed'
  | 'consent_withdrawn'
  | 'frequency_capped'
  | 'out_of_stock'
  | 'invalid_email'
  /** A vendor refused our data for good (FailureType.VendorRefused); see the worker logs. */
  | 'vendor_refused'
  | 'control_group_not_recovered'
  | 'control_group_recovered';

export interface TouchRecord {
  touch: number;
  sentAt: string;
  discountPercent: number;
  code: string | null;
  /** Set when the workflow did not send (control group) but recorded the touch time. */
  suppressed?: boolean;
  /**
   * Set when the touch was not sent because a later one became due with it (an overdue
   * sequence sends only the latest touch); `sentAt` is when that was decided.
   */
  skipped?: boolean;
}

export interface CartRecoveryStatus {
  shop: string;
  checkoutToken: string;
  stage: Stage;
  segment: Segment | null;
  controlGroup: boolean;
  touches: TouchRecord[];
  nextTouchDueAt: string | null;
  lastActivityAt: string | null;
  /** When the checkout was last found abandoned (null while watching). */
  abandonedAt: string | null;
  ticketId: string | null;
  outcome: Outcome | null;
  /** Order that ended the sequence, when there was one. */
  order: OrderPlaced | null;
}

export const statusQuery = defineQuery<CartRecoveryStatus>('status');

/** Input of the per-customer gate (`customerGate`): one running sequence per customer and shop. */
export interface CustomerGateInput {
  shop: string;
  customerKey: string;
  /** Workflow id of the cart that holds the right to run a sequence. */
  holder: string;
  /** Quiet time after the holder's sequence ends before the gate lets another one start. */
  cooldownMs: number;
}

export interface CustomerGateStatus {
  holder: string;
  releasedAt: string | null;
  cooldownUntil: string | null;
}

/** Sent by the holding cart when its sequence ends (for any reason). */
export const releaseGateSignal = defineSignal<[{ holder: string }]>('releaseGate');
export const gateStatusQuery = defineQuery<CustomerGateStatus>('gateStatus');

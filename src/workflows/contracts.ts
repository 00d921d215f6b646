/**
 * The types of every activity the workflows call, grouped by the task queue they run on.
 * Workflows import only these types; `createActivities(deps)` in ./index.ts implements them
 * with real vendor clients or the local sandbox, and tests may implement them with doubles.
 *
 * Every input carries `key`: a business idempotency key built in the workflow
 * (`<shop>:<checkout>:touch-2:send`), never derived from activity ids, so a retry, a worker
 * restart or a continue-as-new finds the vendor-side object created before.
 */
import type { CheckoutSnapshot, CustomerGateInput, LineItem, Outcome } from './messages';
import type { Segment } from './policy';

/** `ApplicationFailure.type` values the workflow acts on; all are non-retryable. */
export const FailureType = {
  /** The vendor refuses this recipient for good (invalid email, hard bounce). */
  InvalidRecipient: 'InvalidRecipient',
  /** The vendor rejected our credentials (401/403); names which credential in the message. */
  CredentialsRejected: 'CredentialsRejected',
  /** The vendor refused the data (validation error) in a way a retry cannot fix. */
  VendorRefused: 'VendorRefused',
  /**
   * The send's window closed before the vendor accepted it (quiet hours began, or the next
   * touch fell due): the workflow decides again instead of mailing late.
   */
  SendWindowClosed: 'SendWindowClosed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export interface CustomerFacts {
  /** False when the vendor has never seen this email: a new customer, not an error. */
  known: boolean;
  ordersCount: number;
  /** Historic customer lifetime value, decimal string, in `currency`. */
  lifetimeValue: string;
  predictedLifetimeValue: string | null;
  averageOrderValue: string | null;
  churnProbability: number | null;
  currency: string | null;
  vip: boolean;
  engagement: 'engaged' | 'lapsed' | 'unknown';
  /** Email marketing consent as the ESP knows it. */
  consent: 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'NEVER_SUBSCRIBED' | 'UNKNOWN';
  suppressed: boolean;
  suppressionReasons: string[];
  /** IANA time zone, if known. */
  timezone: string | null;
}

export interface EnrichCustomerInput {
  key: string;
  shop: string;
  email: string;
}

export interface StockInput {
  key: string;
  shop: string;
  items: Pick<LineItem, 'key' | 'variantId' | 'productId' | 'quantity'>[];
}

export interface VariantFacts {
  lineKey: string;
  available: boolean;
  imageUrl: string | null;
  productUrl: string | null;
}

export interface IssueCodeInput {
  key: string;
  shop: string;
  checkoutToken: string;
  customerId: string | null;
  email: string;
  percent: number;
  startsAt: string;
  endsAt: string;
}

export interface DiscountCode {
  code: string;
  /** Vendor id of the discount (to revoke it), e.g. a Shopify DiscountCodeNode gid. */
  id: string;
  expiresAt: string;
}

export interface RevokeCodeInput {
  key: string;
  shop: string;
  id: string;
  code: string;
}

export interface EmailItem {
  title: string;
  variantTitle: string | null;
  quantity: number;
  price: string;
  imageUrl: string | null;
  productUrl: string | null;
}

/** Everything a recovery email template needs; sent as the Klaviyo event's properties. */
export interface RecoveryEmail {
  key: string;
  /** ISO instant after which the email must not be handed to the vendor (absent: no limit). */
  sendBy?: string;
  shop: string;
  checkoutToken: string;
  email: string;
  firstName: string | null;
  touch: number;
  totalTouches: number;
  segment: Segment;
  subject: string;
  preheader: string;
  items: EmailItem[];
  total: string;
  currency: string;
  restoreUrl: string;
  discount: { code: string; percent: number; expiresAt: string } | null;
}

/**
 * One Shopify step before a touch: look up the cart's variants (stock, images) and, when at
 * least one item is still available, revoke the previous touch's code and issue this touch's.
 * Done as one activity so that a touch costs one Shopify action, not three; each call inside
 * carries its own business key, so a retry repeats nothing.
 */
export interface PrepareTouchInput {
  key: string;
  stock: StockInput;
  /** The code of this touch, or null when the ladder says 0 %. */
  issue: IssueCodeInput | null;
  /** The previous touch's code to revoke when a new one replaces it. */
  revoke: RevokeCodeInput | null;
}

export interface PreparedTouch {
  variants: VariantFacts[];
  /** Null when nothing was issued (0 % or no item available). */
  code: DiscountCode | null;
  /** True when `revoke` was carried out. */
  revoked: boolean;
}

export interface SupportTicketInput {
  key: string;
  shop: string;
  checkout: CheckoutSnapshot;
  segment: Segment;
}

/** Facts recorded for the dashboard; each carries its business key, so recording is idempotent. */
export type MetricEvent =
  | {
      kind: 'abandoned';
      key: string;
      shop: string;
      checkoutToken: string;
      workflowId: string;
      segment: Segment;
      cartValue: string;
      currency: string;
      controlGroup: boolean;
      at: string;
    }
  | {
      kind: 'touch_sent';
      key: string;
      shop: string;
      checkoutToken: string;
      touch: number;
      segment: Segment;
      discountPercent: number;
      at: string;
    }
  | { kind: 'ticket_created'; key: string; shop: string; checkoutToken: string; ticketId: string; at: string }
  | {
      kind: 'converted';
      key: string;
      shop: string;
      checkoutToken: string;
      orderId: string;
      revenue: string;
      currency: string;
      /** The touch the order is attributed to, or null (before any touch / outside the window). */
      attributedTouch: number | null;
      segment: Segment | null;
      controlGroup: boolean;
      at: string;
    }
  | { kind: 'outcome'; key: string; shop: string; checkoutToken: string; outcome: Outcome; at: string };

export interface KlaviyoActivities {
  enrichCustomer(input: EnrichCustomerInput): Promise<CustomerFacts>;
  sendRecoveryEmail(input: RecoveryEmail): Promise<{ messageId: string }>;
}

export interface ShopifyActivities {
  lookupVariants(input: StockInput): Promise<VariantFacts[]>;
  issueDiscountCode(input: IssueCodeInput): Promise<DiscountCode>;
  revokeDiscountCode(input: RevokeCodeInput): Promise<void>;
}

/** Compositions of the vendor activities above (src/activities/touch.ts). */
export interface TouchActivities {
  prepareTouch(input: PrepareTouchInput): Promise<PreparedTouch>;
  /** Every code still live when a cart ends, in one activity (one billable action, not one per code). */
  revokeDiscountCodes(input: RevokeCodesInput): Promise<void>;
}

export interface RevokeCodesInput {
  codes: RevokeCodeInput[];
}

export interface AcquireGateInput {
  key: string;
  /** `customer:<shop>:<customer-key>` (see workflows/ids.ts). */
  gateWorkflowId: string;
  /** Task queue of the workflows (the gate runs beside the carts). */
  taskQueue: string;
  /** Upper bound of the gate's life, so that a lost release cannot block a customer for ever. */
  executionTimeoutMs: number;
  gate: CustomerGateInput;
}

export interface GateGrant {
  granted: boolean;
  /** Workflow id of the cart holding the gate (this cart when granted). */
  holder: string | null;
}

/** The frequency cap's lock (src/activities/customer-gate.ts); needs a Temporal client. */
export interface GateActivities {
  acquireCustomerGate(input: AcquireGateInput): Promise<GateGrant>;
}

export interface GorgiasActivities {
  createSupportTicket(input: SupportTicketInput): Promise<{ ticketId: string }>;
}

export interface LocalActivities {
  recordMetric(event: MetricEvent): Promise<void>;
}

/** The engagement sync (src/workflows/engagement-sync.ts): opens and clicks read from the ESP. */
export type EngagementKind = 'open' | 'click';

export interface EngagementSyncPlan {
  /** Null: no engagement source (e.g. Klaviyo in sandbox mode); `notes` says why. */
  source: 'klaviyo' | null;
  notes: string[];
  /** The window to read, [from, until), ISO times. */
  from: string;
  until: string;
  windows: { kind: EngagementKind; metricId: string }[];
  /** ESP flows that send the recovery emails; message events of other flows are not ours. */
  flowIds: string[];
}

export interface EngagementWindowInput {
  source: 'klaviyo';
  kind: EngagementKind;
  metricId: string;
  from: string;
  until: string;
  flowIds: string[];
}

export interface EngagementWindowCounts {
  read: number;
  recorded: number;
  /** Already recorded by an earlier run (overlapping windows are the norm). */
  duplicates: number;
  /** Ours, but no touch matched (e.g. sent before this system recorded links). */
  unmatched: number;
  /** Engagement with the merchant's other emails. */
  notOurs: number;
}

export interface EngagementSyncActivities {
  planEngagementSync(): Promise<EngagementSyncPlan>;
  syncEngagementWindow(input: EngagementWindowInput): Promise<EngagementWindowCounts>;
  completeEngagementSync(input: { source: 'klaviyo'; until: string }): Promise<void>;
}

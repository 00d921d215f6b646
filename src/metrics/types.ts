/** The metrics store's public types: the interface, its inputs and the summary it answers. */
import type { EngagementKind, MetricEvent } from '../workflows/contracts';
import type { Segment } from '../workflows/policy';

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

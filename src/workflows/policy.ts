/**
 * The recovery policy: every duration and threshold the workflow obeys. It is plain JSON and is
 * passed to each workflow at start (and carried through continue-as-new), so a configuration
 * change applies to new carts and never changes the course of a cart already in flight.
 */
export type Segment = 'premium' | 'loyalty' | 'welcome';
export const SEGMENTS: readonly Segment[] = ['premium', 'loyalty', 'welcome'];

export interface RecoveryPolicy {
  /** Quiet time after the last activity before a checkout counts as abandoned. */
  abandonAfterMs: number;
  /** Delay of each touch after the last activity; the first is normally `abandonAfterMs`. */
  touchDelaysMs: number[];
  /** Discount percent per touch and segment; 0 means no code for that touch. */
  discountLadders: Record<Segment, number[]>;
  /** How long an issued discount code stays valid. */
  discountValidityMs: number;
  /** Cart value (decimal string per currency) at or above which a cart is premium. */
  premiumThresholds: Record<string, string>;
  /** Cart value per currency at or above which a support ticket is opened at abandonment. */
  ticketThresholds: Record<string, string>;
  /** Marketing consent required (checkout opt-in or Klaviyo SUBSCRIBED). */
  requireMarketingConsent: boolean;
  /** No new sequence for a customer within this time of their previous one. */
  cooldownMs: number;
  /** An order within this time after a touch is attributed to it. */
  attributionWindowMs: number;
  /** Local hours [start, end) in which no email is sent; the touch moves to `end`. */
  quietHours: { startHour: number; endHour: number };
  /** Fallback time zone when the customer's is unknown. */
  shopTimezone: string;
  /** Share of abandoned carts (0..100) held out as a control group: tracked, never emailed. */
  controlGroupPercent: number;
  /** Upper bound of the random delay added to timers so that many carts do not wake at once. */
  timerJitterMs: number;
  /** History length at which the workflow continues as new (Temporal also suggests it). */
  continueAsNewAfterEvents: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_POLICY: RecoveryPolicy = {
  abandonAfterMs: HOUR,
  touchDelaysMs: [HOUR, 6 * HOUR, 24 * HOUR, 72 * HOUR],
  discountLadders: {
    welcome: [10, 10, 15, 20],
    loyalty: [0, 5, 10, 15],
    premium: [0, 10, 15, 20],
  },
  discountValidityMs: 2 * DAY,
  premiumThresholds: { USD: '200' },
  ticketThresholds: { USD: '200' },
  requireMarketingConsent: true,
  cooldownMs: 7 * DAY,
  attributionWindowMs: 5 * DAY,
  quietHours: { startHour: 21, endHour: 8 },
  shopTimezone: 'UTC',
  controlGroupPercent: 0,
  timerJitterMs: 5 * 60_000,
  continueAsNewAfterEvents: 2_000,
};

/**
 * The short demo policy used by `npm start` in sandbox mode: minutes instead of hours, so a
 * newcomer sees carts move through every stage while watching.
 */
export const DEMO_POLICY: RecoveryPolicy = {
  ...DEFAULT_POLICY,
  abandonAfterMs: 60_000,
  touchDelaysMs: [60_000, 2 * 60_000, 3 * 60_000, 4 * 60_000],
  discountValidityMs: 10 * 60_000,
  cooldownMs: 2 * 60_000,
  attributionWindowMs: 5 * 60_000,
  quietHours: { startHour: 0, endHour: 0 },
  timerJitterMs: 2_000,
};

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
  /**
   * Smallest time between two emails of one sequence, also after an outage (touches that became
   * due together send only the latest). Absent in carts started before it: half the smallest
   * planned gap (`minTouchGapMs()` in cart-recovery/send-time.ts).
   */
  minTouchGapMs?: number;
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
  minTouchGapMs: 4 * HOUR,
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
  minTouchGapMs: 30_000,
  timerJitterMs: 2_000,
};

/** The smallest planned time between two consecutive touches (Infinity for a single touch). */
export function smallestTouchGapMs(touchDelaysMs: number[]): number {
  return Math.min(...touchDelaysMs.slice(1).map((d, i) => d - touchDelaysMs[i]!));
}

/**
 * Problems with a policy, as readable sentences (empty when it is sound). Shared by the
 * configuration (a wrong RECOVERY_* value stops start-up) and by the workflow (a cart started
 * with an unsound policy fails at once instead of misbehaving for days).
 */
export function policyProblems(policy: RecoveryPolicy): string[] {
  const problems: string[] = [];
  const delays = policy.touchDelaysMs;
  if (!(policy.abandonAfterMs > 0)) problems.push('abandonAfterMs must be above 0');
  if (delays.length === 0) problems.push('touchDelaysMs must list at least one touch');
  if (delays.some((d, i) => i > 0 && d <= delays[i - 1]!)) {
    problems.push('touchDelaysMs must be strictly increasing (each touch later than the previous)');
  }
  if (delays.length > 0 && delays[0]! < policy.abandonAfterMs) {
    problems.push(
      'the first touch delay cannot be shorter than abandonAfterMs (no email before abandonment)',
    );
  }
  for (const segment of SEGMENTS) {
    const ladder = policy.discountLadders[segment];
    if (ladder.length !== delays.length) {
      problems.push(`discountLadders.${segment} has ${ladder.length} steps for ${delays.length} touches`);
    }
    if (ladder.some((p) => !Number.isInteger(p) || p < 0 || p > 100)) {
      problems.push(`discountLadders.${segment} must hold whole percentages 0..100`);
    }
  }
  const { startHour, endHour } = policy.quietHours;
  for (const h of [startHour, endHour]) {
    if (!Number.isInteger(h) || h < 0 || h > 23) problems.push('quietHours hours must be whole hours 0..23');
  }
  if (!(policy.discountValidityMs > 0)) problems.push('discountValidityMs must be above 0');
  if (!(policy.attributionWindowMs > 0)) problems.push('attributionWindowMs must be above 0');
  if (!(policy.cooldownMs >= 0)) problems.push('cooldownMs cannot be negative');
  if (!(policy.timerJitterMs >= 0)) problems.push('timerJitterMs cannot be negative');
  const gap = policy.minTouchGapMs;
  const smallest = smallestTouchGapMs(delays);
  if (gap !== undefined && !(gap >= 0)) problems.push('minTouchGapMs cannot be negative');
  else if (gap !== undefined && gap > smallest) {
    // Otherwise every sequence would skip touches even when nothing was late.
    problems.push('minTouchGapMs cannot exceed the smallest gap between planned touches (touchDelaysMs)');
  }
  if (!(policy.controlGroupPercent >= 0 && policy.controlGroupPercent <= 100)) {
    problems.push('controlGroupPercent must be within 0..100');
  }
  if (!(policy.continueAsNewAfterEvents >= 100)) {
    problems.push('continueAsNewAfterEvents must be at least 100 (a touch alone takes about 30 events)');
  }
  return problems;
}

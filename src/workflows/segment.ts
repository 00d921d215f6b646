/**
 * Pure decisions about an abandoned cart: its segment and whether it is held out as a control.
 * Deterministic (no clock, no randomness) so that they are safe in workflow code and testable
 * from a table.
 */
import { reachesThreshold } from './money';
import type { Segment } from './policy';
import { fnv1a32 } from './keys';

export interface SegmentFacts {
  cartValue: string;
  currency: string;
  vip: boolean;
  ordersCount: number;
}

/**
 * premium: the cart reaches the premium threshold of its currency, or the customer is VIP;
 * loyalty: the customer has ordered before; welcome: everyone else.
 */
export function decideSegment(facts: SegmentFacts, premiumThresholds: Record<string, string>): Segment {
  if (facts.vip || reachesThreshold(facts.cartValue, facts.currency, premiumThresholds)) return 'premium';
  if (facts.ordersCount > 0) return 'loyalty';
  return 'welcome';
}

/**
 * The control group is chosen from the checkout identity alone (shop + token), so the same
 * checkout always lands in the same group, across retries, replays and continue-as-new.
 */
export function controlBucket(shop: string, checkoutToken: string): number {
  return fnv1a32(`${shop}:${checkoutToken}`) % 100;
}

export function inControlGroup(shop: string, checkoutToken: string, controlGroupPercent: number): boolean {
  return controlBucket(shop, checkoutToken) < controlGroupPercent;
}

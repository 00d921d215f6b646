/**
 * The send-time decision: whether the touch whose time has come goes out now, which touch it is
 * (an overdue sequence sends only the latest touch that became due), or until when it waits (the
 * minimum gap since the previous email, then quiet hours in the recipient's zone). Pure: `now`
 * and the zone are arguments, so the rules have table tests (test/send-time.test.ts).
 */
import { smallestTouchGapMs, type RecoveryPolicy } from '../policy';
import { nextSendableTime, quietStartAfter } from '../schedule';
import { lastSentTouch } from './questions';
import type { CartState } from './state';

export type SendTime =
  /** Send `touch` now; the touches in `skipped` became due together with it and are dropped. */
  | { kind: 'send'; touch: number; skipped: number[] }
  /** Nothing goes out before `until`. */
  | { kind: 'wait'; until: number; why: 'minimum gap' | 'quiet hours' };

/** When touch `touch` is planned: its delay after the last activity (no jitter, no quiet hours). */
export function plannedAt(state: CartState, policy: RecoveryPolicy, touch: number): number {
  return Date.parse(state.lastActivityAt!) + policy.touchDelaysMs[touch - 1]!;
}

/**
 * The smallest time between two emails of a sequence. Carts started before the setting existed
 * carry a policy without it: half the smallest planned gap between touches protects them.
 */
export function minTouchGapMs(policy: RecoveryPolicy): number {
  if (policy.minTouchGapMs !== undefined) return policy.minTouchGapMs;
  const smallest = smallestTouchGapMs(policy.touchDelaysMs);
  return Number.isFinite(smallest) ? smallest / 2 : 0;
}

/**
 * Decide at send time for `touch`, the next touch of the sequence, once its time has come:
 * 1. overdue: of the touches whose planned time has passed, only the latest is sent (with its
 *    own discount and copy); the earlier ones are skipped, never sent in a burst;
 * 2. never closer than `minTouchGapMs` to the previous email;
 * 3. never in quiet hours in `zone` at the moment of sending.
 */
export function sendTimeDecision(
  state: CartState,
  policy: RecoveryPolicy,
  touch: number,
  now: number,
  zone: string,
): SendTime {
  const last = lastSentTouch(state);
  const earliest = last ? Math.max(now, Date.parse(last.sentAt) + minTouchGapMs(policy)) : now;
  const sendable = nextSendableTime(earliest, zone, policy.quietHours);
  if (sendable > now) {
    return { kind: 'wait', until: sendable, why: earliest > now ? 'minimum gap' : 'quiet hours' };
  }
  let latest = touch;
  while (latest < policy.touchDelaysMs.length && plannedAt(state, policy, latest + 1) <= now) latest += 1;
  const skipped: number[] = [];
  for (let t = touch; t < latest; t += 1) skipped.push(t);
  return { kind: 'send', touch: latest, skipped };
}

/** Quiet hours or the gap at `now` for a touch already decided (re-checked after its Shopify step). */
export function sendBlockedUntil(
  state: CartState,
  policy: RecoveryPolicy,
  now: number,
  zone: string,
): number | null {
  const decision = sendTimeDecision(state, policy, policy.touchDelaysMs.length, now, zone);
  return decision.kind === 'wait' ? decision.until : null;
}

/**
 * Until when touch `touch`, decided at `now`, may be handed to the vendor: the start of the next
 * quiet hours or the planned time of the next touch, whichever is first (null: no limit). A send
 * retried past it is refused (`SendWindowClosed`) and the cart decides again.
 */
export function sendWindowEnd(
  state: CartState,
  policy: RecoveryPolicy,
  touch: number,
  now: number,
  zone: string,
): number | null {
  const next = touch < policy.touchDelaysMs.length ? plannedAt(state, policy, touch + 1) : Infinity;
  const end = Math.min(next, quietStartAfter(now, zone, policy.quietHours));
  return Number.isFinite(end) ? end : null;
}

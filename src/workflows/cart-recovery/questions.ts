/**
 * The read-only questions the cart's steps ask of its state: plain functions of the state and
 * the policy, no Temporal calls, no clock (a time that matters is an argument). Table-tested in
 * test/cart-questions.test.ts.
 */
import type { ConsentChanged, OrderPlaced, Outcome, TouchRecord } from '../messages';
import { emailBlockedBy, type Ineligibility } from '../eligibility';
import type { RecoveryPolicy } from '../policy';
import type { CartState, IssuedCode } from './state';

/** Outcomes that end the sequence after abandonment without an order being known. */
const ENDED_WITHOUT_ORDER: ReadonlySet<Outcome> = new Set<Outcome>([
  'no_consent',
  'suppressed',
  'consent_withdrawn',
  'frequency_capped',
  'out_of_stock',
  'invalid_email',
  'vendor_refused',
]);

/** An order, a completed checkout or a deletion is known: the sequence is over. */
export function stopKnown(state: CartState): boolean {
  return state.order !== null || state.completedAt !== null || state.deletedAt !== null;
}

/**
 * The sequence ended after abandonment for a reason other than an order, and no order is known
 * yet: the cart keeps watching for a late one (see `watchForLateOrder`).
 */
export function endedEarlyAfterAbandonment(state: CartState): boolean {
  return (
    state.outcome !== null &&
    ENDED_WITHOUT_ORDER.has(state.outcome) &&
    state.abandonedRecorded &&
    state.abandonedAt !== null &&
    !stopKnown(state)
  );
}

/** Why an order at `orderAt` ended the cart: before abandonment, held out, caused or not. */
export function orderOutcome(state: CartState, policy: RecoveryPolicy, orderAt: string): Outcome {
  if (state.firstAbandonedAt === null) return 'converted_before_abandonment';
  if (state.controlGroup) return 'control_group_recovered';
  return attributedTouch(state, policy, orderAt) !== null ? 'recovered' : 'converted_before_first_touch';
}

/** The last touch sent at or before the order and within the attribution window. */
export function attributedTouch(state: CartState, policy: RecoveryPolicy, orderAt: string): number | null {
  const at = Date.parse(orderAt);
  const eligible = state.touches.filter((t) => {
    if (t.skipped) return false;
    const sent = Date.parse(t.sentAt);
    return sent <= at && at - sent <= policy.attributionWindowMs;
  });
  return eligible.at(-1)?.touch ?? null;
}

/** A checkout Shopify marked completed, counted as the order whose webhook never came. */
export function completedAsOrder(state: CartState): OrderPlaced {
  const snapshot = state.snapshot!;
  return {
    orderId: `checkout:${state.checkoutToken}`,
    totalPrice: snapshot.totalPrice,
    currency: snapshot.currency,
    checkoutToken: state.checkoutToken,
    cartToken: snapshot.cartToken,
    at: state.completedAt!,
  };
}

/** Why a quiet checkout cannot be won back by email (yet), or null when it can. */
export function notRecoverable(state: CartState): Outcome | null {
  const snapshot = state.snapshot;
  if (!snapshot || !snapshot.email || !snapshot.email.includes('@')) return 'no_email';
  if (snapshot.lineItems.length === 0 || snapshot.lineItems.every((l) => l.quantity <= 0))
    return 'empty_cart';
  return null;
}

/** The customer did something after the cart was declared abandoned. */
export function cartChangedSinceAbandonment(state: CartState): boolean {
  return (
    state.abandonedAt !== null &&
    state.lastActivityAt !== null &&
    Date.parse(state.lastActivityAt) > Date.parse(state.abandonedAt)
  );
}

/** The newest consent webhook for this checkout's customer (by id or by address). */
export function latestConsent(state: CartState): ConsentChanged | null {
  const snapshot = state.snapshot;
  if (!snapshot) return null;
  const email = snapshot.email?.trim().toLowerCase() ?? null;
  const mine = state.consents.filter(
    (c) =>
      (c.customerId !== null && c.customerId === snapshot.customerId) ||
      (c.email !== null && email !== null && c.email.trim().toLowerCase() === email),
  );
  return mine.reduce<ConsentChanged | null>(
    (a, c) => (a === null || Date.parse(c.at) >= Date.parse(a.at) ? c : a),
    null,
  );
}

/** Why no marketing email may go to this customer now, or null when one may. */
export function emailBlocked(state: CartState, policy: RecoveryPolicy): Ineligibility | null {
  return emailBlockedBy({
    acceptsMarketing: state.snapshot?.acceptsMarketing ?? false,
    checkoutUpdatedAt: state.snapshot?.updatedAt ?? null,
    latestConsent: latestConsent(state),
    facts: state.facts,
    requireMarketingConsent: policy.requireMarketingConsent,
  });
}

/** A planned touch time still holds when it is for this touch and the same last activity. */
export function plannedDueAt(state: CartState, touch: number): number | null {
  const planned = state.nextTouch;
  if (planned && planned.touch === touch && planned.forActivityAt === state.lastActivityAt)
    return Date.parse(planned.dueAt);
  return null;
}

/**
 * The code touch `touch` already issued and may email again (a retried or repeated touch): not
 * revoked, for the same percent, and valid for at least half the policy's validity from `now`.
 * Re-asking Shopify for it instead would revoke it first and hand back a dead code.
 */
export function reusableCode(
  state: CartState,
  policy: RecoveryPolicy,
  touch: number,
  percent: number,
  now: number,
): IssuedCode | null {
  const own = state.codes.filter((c) => c.touch === touch).at(-1);
  if (!own || own.revoked) return null;
  if (own.percent !== undefined && own.percent !== percent) return null;
  return Date.parse(own.expiresAt) - now >= policy.discountValidityMs / 2 ? own : null;
}

/** How many codes touch `touch` has issued: each new one needs a business key of its own. */
export function codesIssuedFor(state: CartState, touch: number): number {
  return state.codes.filter((c) => c.touch === touch).length;
}

/**
 * The live code to revoke while preparing the next touch: the newest one from before the last
 * sent touch. That touch's own code stays live until the next email is accepted (a failed send
 * must not leave the customer without a valid code); it goes at the touch after or at the end.
 */
export function codeToRevoke(state: CartState): IssuedCode | null {
  const previous = lastSentTouch(state)?.touch ?? 0;
  return state.codes.filter((c) => !c.revoked && c.touch < previous).at(-1) ?? null;
}

/** The last touch that was sent (or held out for the control group), not one that was skipped. */
export function lastSentTouch(state: CartState): TouchRecord | null {
  return state.touches.filter((t) => !t.skipped).at(-1) ?? null;
}

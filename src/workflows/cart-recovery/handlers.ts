/**
 * The cart's signal handlers as reducers: each checks its payload, records a fact in the state
 * and returns. None waits or calls an activity; the run's steps act on the facts at their next
 * read of the state. A malformed or foreign payload is logged and changes nothing.
 */
import { log } from '@temporalio/workflow';
import { isCurrency, isDecimal } from '../money';
import {
  CONSENT_STATES,
  type CartActivity,
  type CheckoutDeleted,
  type CheckoutSnapshot,
  type ConsentChanged,
  type OrderPlaced,
} from '../messages';
import type { RecoveryPolicy } from '../policy';
import type { CartState } from './state';

/** Consent webhooks kept per cart: enough for any real customer, bounded for a noisy one. */
const MAX_CONSENTS_KEPT = 20;

export function onCheckoutUpdated(state: CartState, policy: RecoveryPolicy, snapshot: CheckoutSnapshot) {
  const problem = snapshotProblem(snapshot, state.checkoutToken);
  if (problem) return void log.warn('checkoutUpdated ignored', { problem, workflowId: state.workflowId });
  // Shopify retries and reorders deliveries: only a strictly newer snapshot replaces ours.
  if (state.snapshot && Date.parse(snapshot.updatedAt) <= Date.parse(state.snapshot.updatedAt)) return;
  state.snapshot = snapshot;
  if (snapshot.completedAt) state.completedAt ??= snapshot.completedAt;
  noteActivity(state, policy, snapshot.updatedAt);
}

export function onCartActivity(state: CartState, policy: RecoveryPolicy, activity: CartActivity) {
  if (!activity || typeof activity.cartToken !== 'string' || !isTime(activity.at)) {
    return void log.warn('cartActivity ignored', {
      problem: 'malformed payload',
      workflowId: state.workflowId,
    });
  }
  const cartToken = state.snapshot?.cartToken;
  if (cartToken && cartToken !== activity.cartToken) return;
  noteActivity(state, policy, activity.at);
}

export function onOrderPlaced(state: CartState, order: OrderPlaced) {
  const problem = orderProblem(order, state);
  if (problem) return void log.warn('orderPlaced ignored', { problem, workflowId: state.workflowId });
  state.order ??= order; // the first order ends the cart; duplicates change nothing
}

export function onConsentChanged(state: CartState, consent: ConsentChanged) {
  if (!consent || !CONSENT_STATES.includes(consent.state) || !isTime(consent.at)) {
    return void log.warn('consentChanged ignored', {
      problem: 'malformed payload',
      workflowId: state.workflowId,
    });
  }
  if (state.consents.some((c) => c.at === consent.at && c.state === consent.state)) return;
  state.consents = [...state.consents, consent].slice(-MAX_CONSENTS_KEPT);
}

export function onCheckoutDeleted(state: CartState, deleted: CheckoutDeleted) {
  state.deletedAt ??= deleted && isTime(deleted.at) ? deleted.at : new Date(Date.now()).toISOString();
}

function noteActivity(state: CartState, policy: RecoveryPolicy, at: string) {
  // A clock far ahead of ours must not push abandonment into the future for ever.
  const capped = Math.min(Date.parse(at), Date.now() + policy.abandonAfterMs);
  if (state.lastActivityAt === null || capped > Date.parse(state.lastActivityAt)) {
    state.lastActivityAt = new Date(capped).toISOString();
    state.activitySeq += 1;
  }
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

export function snapshotProblem(s: CheckoutSnapshot, token: string): string | null {
  if (!s || typeof s !== 'object') return 'not an object';
  if (s.token !== token) return `token ${String(s.token)} is not this checkout's`;
  if (!isTime(s.updatedAt)) return 'updatedAt is not a timestamp';
  if (!Array.isArray(s.lineItems)) return 'lineItems is not a list';
  if (typeof s.totalPrice !== 'string' || !isDecimal(s.totalPrice))
    return 'totalPrice is not a decimal string';
  if (typeof s.currency !== 'string' || !isCurrency(s.currency)) return 'currency is not an ISO code';
  if (s.completedAt !== null && !isTime(s.completedAt)) return 'completedAt is not a timestamp';
  return null;
}

export function orderProblem(o: OrderPlaced, state: CartState): string | null {
  if (!o || typeof o !== 'object') return 'not an object';
  if (typeof o.orderId !== 'string' || o.orderId === '') return 'orderId missing';
  if (!isTime(o.at)) return 'at is not a timestamp';
  if (typeof o.totalPrice !== 'string' || !isDecimal(o.totalPrice))
    return 'totalPrice is not a decimal string';
  const cartToken = state.snapshot?.cartToken ?? null;
  const mine =
    o.checkoutToken === state.checkoutToken ||
    (o.checkoutToken == null && (o.cartToken == null || cartToken === null || o.cartToken === cartToken));
  if (!mine) return `order ${o.orderId} belongs to another checkout`;
  return null;
}

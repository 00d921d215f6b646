/**
 * Routing per topic, as a table: each Shopify topic the relay uses names the route that parses
 * its payload and decides which checkouts' workflows get which signal. A topic missing from the
 * table is acknowledged and ignored; the compiler insists that every routed topic has a route.
 */
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  checkoutUpdatedSignal,
  consentChangedSignal,
  orderPlacedSignal,
} from '../workflows/messages';
import { COMPLIANCE_ROUTES } from './compliance';
import { invalid, NO_KEYS, signals, target, type Route } from './plan';
import {
  CartPayload,
  CheckoutDeletePayload,
  CheckoutPayload,
  ConsentPayload,
  OrderPayload,
  toCartActivity,
  toCheckoutDeleted,
  toCheckoutSnapshot,
  toConsentChanged,
  toOrderPlaced,
} from './shopify-payloads';
import type { RelayTopic } from './topics';

/** A checkout's full state: the one topic that may start a workflow (with the order below). */
const checkoutChanged: Route = (json, { topic }) => {
  const parsed = CheckoutPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const snapshot = toCheckoutSnapshot(parsed.data);
  return signals([
    target(snapshot.token, checkoutUpdatedSignal, snapshot, {
      checkoutId: parsed.data.id ?? null,
      cartToken: snapshot.cartToken,
      customerId: snapshot.customerId,
      email: snapshot.email,
    }),
  ]);
};

const cartActivity: Route = async (json, { topic, at, open }) => {
  const parsed = CartPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const activity = toCartActivity(parsed.data, at);
  const tokens = await open({ cartToken: activity.cartToken });
  if (tokens.length === 0)
    return { kind: 'drop', outcome: 'no_open_checkout', why: 'no open checkout has this cart token' };
  return signals(tokens.map((t) => target(t, cartActivitySignal, activity, NO_KEYS)));
};

const orderPlaced: Route = async (json, { topic, at, open }) => {
  const parsed = OrderPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const order = toOrderPlaced(parsed.data, at);
  // The checkout token first: it starts the workflow when the order overtook every
  // checkout webhook. Then every other open checkout of the same cart, which this order
  // also settles (a shopper who restarted checkout must not be chased for a paid cart).
  const tokens = new Set<string>();
  if (order.checkoutToken) tokens.add(order.checkoutToken);
  if (order.cartToken) for (const t of await open({ cartToken: order.cartToken })) tokens.add(t);
  if (tokens.size === 0)
    return {
      kind: 'drop',
      outcome: 'unmatched_order',
      why: order.cartToken
        ? 'no open checkout has the order cart token'
        : 'order without checkout or cart token',
    };
  return signals(
    [...tokens].map((t) =>
      t === order.checkoutToken
        ? target(t, orderPlacedSignal, order, { ...NO_KEYS, cartToken: order.cartToken })
        : // To a sibling the order is one for its cart, paid through another checkout: the
          // workflow accepts an order by cart token only when it names no checkout.
          target(t, orderPlacedSignal, { ...order, checkoutToken: null }, NO_KEYS),
    ),
  );
};

const checkoutDeleted: Route = async (json, { topic, at, open }) => {
  const parsed = CheckoutDeletePayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const p = parsed.data;
  // Only a checkout we know is signalled: a deletion must never start a workflow.
  let tokens = p.token ? await open({ checkoutToken: p.token }) : [];
  if (tokens.length === 0 && p.id) tokens = await open({ checkoutId: p.id });
  if (tokens.length === 0 && p.cart_token) {
    // By cart token only when unambiguous: the cart may have other, live checkouts.
    const byCart = await open({ cartToken: p.cart_token });
    if (byCart.length === 1) tokens = byCart;
  }
  if (tokens.length === 0)
    return { kind: 'drop', outcome: 'no_open_checkout', why: 'no open checkout matches the deletion' };
  return signals(tokens.map((t) => target(t, checkoutDeletedSignal, toCheckoutDeleted(p, at), NO_KEYS)));
};

const consentChanged: Route = async (json, { topic, at, open }) => {
  const parsed = ConsentPayload.safeParse(json);
  if (!parsed.success) return invalid(topic, parsed.error);
  const consent = toConsentChanged(parsed.data, at);
  const tokens = await open({ customerId: consent.customerId, email: consent.email });
  if (tokens.length === 0)
    return { kind: 'drop', outcome: 'no_open_checkout', why: 'the customer has no open checkout' };
  return signals(tokens.map((t) => target(t, consentChangedSignal, consent, NO_KEYS)));
};

const ROUTES: Readonly<Record<RelayTopic, Route>> = {
  'checkouts/create': checkoutChanged,
  'checkouts/update': checkoutChanged,
  'checkouts/delete': checkoutDeleted,
  'carts/create': cartActivity,
  'carts/update': cartActivity,
  'orders/create': orderPlaced,
  'orders/paid': orderPlaced,
  'customers_email_marketing_consent/update': consentChanged,
  ...COMPLIANCE_ROUTES,
};

/** The route of a topic, or undefined for a topic the relay does not use. */
export function routeOf(topic: string): Route | undefined {
  return Object.hasOwn(ROUTES, topic) ? ROUTES[topic as RelayTopic] : undefined;
}

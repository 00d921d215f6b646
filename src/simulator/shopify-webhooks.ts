/**
 * Realistic Shopify webhook deliveries: payloads shaped like Shopify's (including fields the
 * relay does not read, as Shopify sends them), signed like Shopify signs them. Used by the
 * simulator, the benchmark and the tests, so all three speak the same wire format.
 */
import { randomUUID } from 'node:crypto';
import { signShopifyBody } from '../relay/signature';

export const SHOPIFY_API_VERSION = '2025-10';

export interface SimLineItem {
  productId: number;
  variantId: number;
  title: string;
  variantTitle: string | null;
  sku: string;
  quantity: number;
  /** Unit price, decimal string. */
  price: string;
}

/** One shopper's cart and checkout, as Shopify identifies them. */
export interface SimCheckout {
  checkoutToken: string;
  cartToken: string;
  checkoutId: number;
  customerId: number | null;
  email: string | null;
  firstName: string;
  lastName: string;
  acceptsMarketing: boolean;
  currency: string;
  lineItems: SimLineItem[];
}

export interface WebhookDelivery {
  topic: string;
  shop: string;
  /** `X-Shopify-Webhook-Id`: the same for a retried or duplicated delivery. */
  webhookId: string;
  triggeredAt: string;
  body: string;
}

function cents(price: string): number {
  const [whole = '0', fraction = ''] = price.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2));
}
function decimal(c: number): string {
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

export function subtotalOf(items: readonly SimLineItem[]): string {
  return decimal(items.reduce((sum, i) => sum + cents(i.price) * i.quantity, 0));
}

function lineItems(c: SimCheckout) {
  return c.lineItems.map((i) => ({
    key: `${i.variantId}:${c.cartToken.slice(0, 8)}`,
    product_id: i.productId,
    variant_id: i.variantId,
    title: i.title,
    variant_title: i.variantTitle,
    quantity: i.quantity,
    price: i.price,
    line_price: decimal(cents(i.price) * i.quantity),
    sku: i.sku,
    vendor: 'Demo Outfitters',
    requires_shipping: true,
    taxable: true,
    gift_card: false,
    fulfillment_service: 'manual',
    grams: 450,
    tax_lines: [],
    discount_codes: [],
    applied_discounts: [],
    properties: null,
    compare_at_price: null,
  }));
}

export function checkoutPayload(c: SimCheckout, at: { updatedAt: string; createdAt: string }, shop: string) {
  const subtotal = subtotalOf(c.lineItems);
  return {
    id: c.checkoutId,
    token: c.checkoutToken,
    cart_token: c.cartToken,
    email: c.email,
    gateway: null,
    buyer_accepts_marketing: c.acceptsMarketing,
    buyer_accepts_sms_marketing: false,
    created_at: at.createdAt,
    updated_at: at.updatedAt,
    landing_site: '/',
    note: null,
    note_attributes: [],
    referring_site: '',
    shipping_lines: [],
    taxes_included: false,
    total_weight: 450 * c.lineItems.length,
    currency: c.currency,
    completed_at: null,
    closed_at: null,
    user_id: null,
    location_id: null,
    source_identifier: null,
    source_url: null,
    device_id: null,
    phone: null,
    customer_locale: 'en-US',
    line_items: lineItems(c),
    name: `#${c.checkoutId}`,
    source: null,
    abandoned_checkout_url: `https://${shop}/checkouts/${c.checkoutToken}/recover?key=${c.cartToken.slice(0, 12)}`,
    discount_codes: [],
    tax_lines: [],
    source_name: 'web',
    presentment_currency: c.currency,
    total_discounts: '0.00',
    total_line_items_price: subtotal,
    total_price: subtotal,
    total_tax: '0.00',
    subtotal_price: subtotal,
    total_duties: null,
    reservation_token: null,
    billing_address: null,
    shipping_address: null,
    customer: c.customerId
      ? {
          id: c.customerId,
          email: c.email,
          accepts_marketing: c.acceptsMarketing,
          created_at: at.createdAt,
          updated_at: at.updatedAt,
          first_name: c.firstName,
          last_name: c.lastName,
          state: 'enabled',
          note: null,
          verified_email: true,
          multipass_identifier: null,
          tax_exempt: false,
          phone: null,
          tags: '',
          currency: c.currency,
          admin_graphql_api_id: `gid://shopify/Customer/${c.customerId}`,
        }
      : null,
  };
}

export function cartPayload(c: SimCheckout, at: string) {
  return {
    id: c.cartToken,
    token: c.cartToken,
    line_items: lineItems(c),
    note: null,
    updated_at: at,
    created_at: at,
  };
}

export function orderPayload(
  c: SimCheckout,
  orderId: number,
  at: string,
  via: 'checkout' | 'cart-only' = 'checkout',
) {
  const subtotal = subtotalOf(c.lineItems);
  return {
    id: orderId,
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#${1000 + (orderId % 100000)}`,
    checkout_id: via === 'checkout' ? c.checkoutId : null,
    checkout_token: via === 'checkout' ? c.checkoutToken : null,
    cart_token: c.cartToken,
    confirmed: true,
    contact_email: c.email,
    created_at: at,
    processed_at: at,
    updated_at: at,
    currency: c.currency,
    presentment_currency: c.currency,
    current_total_price: subtotal,
    subtotal_price: subtotal,
    total_price: subtotal,
    total_tax: '0.00',
    financial_status: 'paid',
    fulfillment_status: null,
    source_name: 'web',
    line_items: lineItems(c),
    customer: c.customerId ? { id: c.customerId, email: c.email } : null,
  };
}

export function checkoutDeletePayload(c: SimCheckout) {
  const subtotal = subtotalOf(c.lineItems);
  return {
    id: c.checkoutId,
    cart_token: c.cartToken,
    total_price: subtotal,
    subtotal_price: subtotal,
    presentment_currency: c.currency,
  };
}

export function consentPayload(c: SimCheckout, state: string, at: string) {
  return {
    customer_id: c.customerId,
    email_address: c.email,
    email_marketing_consent: { state, opt_in_level: 'single_opt_in', consent_updated_at: at },
  };
}

export function delivery(
  topic: string,
  shop: string,
  payload: unknown,
  triggeredAt: string,
): WebhookDelivery {
  return { topic, shop, webhookId: randomUUID(), triggeredAt, body: JSON.stringify(payload) };
}

/** The headers Shopify sends with a delivery, signed with `secret`. */
export function shopifyHeaders(d: WebhookDelivery, secret: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-shopify-topic': d.topic,
    'x-shopify-hmac-sha256': signShopifyBody(d.body, secret),
    'x-shopify-shop-domain': d.shop,
    'x-shopify-api-version': SHOPIFY_API_VERSION,
    'x-shopify-webhook-id': d.webhookId,
    'x-shopify-event-id': randomUUID(),
    'x-shopify-triggered-at': d.triggeredAt,
  };
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
}

/** POST a delivery as Shopify would (same 5 s patience). */
export async function postDelivery(url: string, d: WebhookDelivery, secret: string): Promise<PostResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: shopifyHeaders(d, secret),
    body: d.body,
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/**
 * The Shopify webhook payloads the relay understands, validated with zod and normalised into the
 * workflow's signal payloads (src/workflows/messages.ts). Schemas accept (and drop) every field
 * they do not name, because Shopify adds fields over time; they reject only what routing or the
 * workflow cannot do without (a checkout token, a parseable time, a decimal price).
 */
import { z } from 'zod';
import { isDecimal } from '../workflows/money';
import {
  CONSENT_STATES,
  type CartActivity,
  type CheckoutDeleted,
  type CheckoutSnapshot,
  type ConsentChanged,
  type LineItem,
  type OrderPlaced,
} from '../workflows/messages';

/** Shopify ids arrive as JSON numbers or strings depending on the API version. */
const shopifyId = z
  .union([z.number().int().nonnegative(), z.string().trim().min(1)])
  .transform((v) => String(v));

/** Money stays a decimal string (never a float). Some versions send numbers. */
const money = z
  .union([z.string().trim(), z.number().nonnegative()])
  .transform((v) => (typeof v === 'number' ? v.toFixed(2) : v))
  .refine(isDecimal, { message: 'expected a decimal amount such as "59.90"' });

/** Any ISO-8601 time Shopify sends (with an offset), normalised to UTC `...Z` so strings compare. */
const timestamp = z
  .string()
  .trim()
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'expected an ISO-8601 date-time' })
  .transform((v) => new Date(v).toISOString());

/**
 * Checkout tokens become part of workflow ids (`cart:<shop>:<token>`): printable, no spaces,
 * bounded, so a strange value cannot produce an id Temporal refuses or two tokens that collide.
 */
const checkoutToken = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{1,255}$/, 'expected a checkout token without spaces (1..255 characters)');

const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v == null || v.trim() === '' ? null : v.trim()));

const LineItemPayload = z.object({
  key: z.string().nullish(),
  id: shopifyId.nullish(),
  product_id: shopifyId.nullish(),
  variant_id: shopifyId.nullish(),
  title: z.string().nullish(),
  variant_title: z.string().nullish(),
  quantity: z.coerce.number().int().nonnegative(),
  price: money,
  line_price: money.nullish(),
  sku: z.string().nullish(),
});
type LineItemPayload = z.infer<typeof LineItemPayload>;

export const CheckoutPayload = z.object({
  id: shopifyId.nullish(),
  token: checkoutToken,
  cart_token: optionalText,
  email: optionalText,
  buyer_accepts_marketing: z.boolean().nullish(),
  created_at: timestamp.nullish(),
  updated_at: timestamp,
  completed_at: timestamp.nullish(),
  currency: z.string().trim().min(1),
  presentment_currency: z.string().nullish(),
  total_price: money,
  subtotal_price: money,
  abandoned_checkout_url: optionalText,
  line_items: z.array(LineItemPayload).nullish(),
  customer: z
    .object({
      id: shopifyId.nullish(),
      email: optionalText,
      first_name: optionalText,
      last_name: optionalText,
    })
    .nullish(),
});
export type CheckoutPayload = z.infer<typeof CheckoutPayload>;

/** `carts/create|update`: no customer, no email; `id` is the cart token (`token` in some versions). */
export const CartPayload = z
  .object({
    id: z.string().trim().min(1).nullish(),
    token: z.string().trim().min(1).nullish(),
    updated_at: timestamp.nullish(),
    created_at: timestamp.nullish(),
  })
  .refine((c) => Boolean(c.token ?? c.id), { message: 'expected the cart token in "token" or "id"' });
export type CartPayload = z.infer<typeof CartPayload>;

export const OrderPayload = z.object({
  id: shopifyId,
  checkout_token: optionalText,
  cart_token: optionalText,
  total_price: money,
  currency: z.string().trim().min(1),
  created_at: timestamp.nullish(),
  processed_at: timestamp.nullish(),
  updated_at: timestamp.nullish(),
});
export type OrderPayload = z.infer<typeof OrderPayload>;

/** `checkouts/delete` carries the numeric id and the cart token; the checkout token only sometimes. */
export const CheckoutDeletePayload = z
  .object({
    id: shopifyId.nullish(),
    token: checkoutToken.nullish(),
    cart_token: optionalText,
    updated_at: timestamp.nullish(),
  })
  .refine((c) => Boolean(c.id ?? c.token ?? c.cart_token), {
    message: 'expected at least one of "id", "token" or "cart_token"',
  });
export type CheckoutDeletePayload = z.infer<typeof CheckoutDeletePayload>;

export const ConsentPayload = z.object({
  customer_id: shopifyId,
  email_address: optionalText,
  email_marketing_consent: z.object({
    // GraphQL spells the states in capitals; webhooks in lower case.
    state: z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(CONSENT_STATES)),
    opt_in_level: z.string().nullish(),
    consent_updated_at: timestamp.nullish(),
  }),
});
export type ConsentPayload = z.infer<typeof ConsentPayload>;

/**
 * The customer named by a compliance webhook. Shopify sends `null` for an email or phone it does
 * not have; an erasure needs at least one key to find the customer's rows.
 */
const ComplianceCustomer = z
  .object({
    id: shopifyId.nullish().transform((v) => v ?? null),
    email: optionalText,
    phone: optionalText,
  })
  .refine((c) => Boolean(c.id ?? c.email), { message: 'expected the customer "id" or "email"' });

/** Shopify's order ids, numbers or strings; an absent list is an empty one. */
const orderIds = z
  .array(shopifyId)
  .nullish()
  .transform((v) => v ?? []);

/** The shop a compliance payload names (checked against `X-Shopify-Shop-Domain`). */
const shopDomain = z
  .string()
  .trim()
  .min(1)
  .nullish()
  .transform((v) => v ?? null);

/** `customers/redact`: erase what we hold about one customer of the shop. */
export const CustomerRedactPayload = z.object({
  shop_id: shopifyId.nullish(),
  shop_domain: shopDomain,
  customer: ComplianceCustomer,
  orders_to_redact: orderIds,
});
export type CustomerRedactPayload = z.infer<typeof CustomerRedactPayload>;

/** `shop/redact`, 48 hours after the app was uninstalled: erase everything about the shop. */
export const ShopRedactPayload = z.object({
  shop_id: shopifyId.nullish(),
  shop_domain: shopDomain,
});
export type ShopRedactPayload = z.infer<typeof ShopRedactPayload>;

/** `customers/data_request`: the customer asked the merchant for the data the app holds. */
export const CustomerDataRequestPayload = z.object({
  shop_id: shopifyId.nullish(),
  shop_domain: shopDomain,
  orders_requested: orderIds,
  customer: ComplianceCustomer,
  data_request: z.object({ id: shopifyId }),
});
export type CustomerDataRequestPayload = z.infer<typeof CustomerDataRequestPayload>;

/** Sum of cents as integers, so that line prices are exact without floats. */
function multiplyDecimal(price: string, quantity: number): string {
  const [whole = '0', fraction = ''] = price.split('.');
  const scale = Math.max(2, fraction.length);
  const units = BigInt(whole + fraction.padEnd(scale, '0')) * BigInt(quantity);
  const text = units.toString().padStart(scale + 1, '0');
  return `${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

function lineItem(item: LineItemPayload, index: number): LineItem {
  return {
    // `key` is stable across updates; older payloads lack it, so fall back to ids, then position.
    key: item.key ?? item.id ?? (item.variant_id ? `variant:${item.variant_id}` : `line:${index}`),
    productId: item.product_id ?? null,
    variantId: item.variant_id ?? null,
    title: item.title ?? '',
    variantTitle: item.variant_title ?? null,
    quantity: item.quantity,
    price: item.price,
    linePrice: item.line_price ?? multiplyDecimal(item.price, item.quantity),
    sku: item.sku ?? null,
  };
}

export function toCheckoutSnapshot(p: CheckoutPayload): CheckoutSnapshot {
  return {
    token: p.token,
    cartToken: p.cart_token,
    email: p.email ?? p.customer?.email ?? null,
    customerId: p.customer?.id ?? null,
    firstName: p.customer?.first_name ?? null,
    lastName: p.customer?.last_name ?? null,
    acceptsMarketing: p.buyer_accepts_marketing ?? false,
    lineItems: (p.line_items ?? []).map(lineItem),
    subtotalPrice: p.subtotal_price,
    totalPrice: p.total_price,
    currency: p.presentment_currency?.trim() || p.currency,
    restoreUrl: p.abandoned_checkout_url,
    updatedAt: p.updated_at,
    completedAt: p.completed_at ?? null,
  };
}

export function cartTokenOf(p: CartPayload): string {
  // The refinement guarantees one of them.
  return (p.token ?? p.id)!;
}

export function toCartActivity(p: CartPayload, fallbackAt: string): CartActivity {
  return { cartToken: cartTokenOf(p), at: p.updated_at ?? p.created_at ?? fallbackAt };
}

export function toOrderPlaced(p: OrderPayload, fallbackAt: string): OrderPlaced {
  return {
    orderId: p.id,
    totalPrice: p.total_price,
    currency: p.currency,
    checkoutToken: p.checkout_token,
    cartToken: p.cart_token,
    at: p.processed_at ?? p.created_at ?? p.updated_at ?? fallbackAt,
  };
}

export function toCheckoutDeleted(p: CheckoutDeletePayload, fallbackAt: string): CheckoutDeleted {
  return { at: p.updated_at ?? fallbackAt };
}

export function toConsentChanged(p: ConsentPayload, fallbackAt: string): ConsentChanged {
  return {
    customerId: p.customer_id,
    email: p.email_address,
    state: p.email_marketing_consent.state,
    at: p.email_marketing_consent.consent_updated_at ?? fallbackAt,
  };
}

/** A zod error as one readable line for dead-letter reasons: `line_items.0.price: expected ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

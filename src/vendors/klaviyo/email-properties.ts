/**
 * The properties of a "Cart Recovery Touch" event: everything a Klaviyo email template reads as
 * `{{ event.<name> }}`. This set is a PUBLIC CONTRACT with the merchant's Klaviyo templates
 * (docs/klaviyo.md lists it, templates/klaviyo/ uses it): add properties freely, but never
 * rename or remove one without bumping `schema_version` and saying so in the changelog.
 */
import type { RecoveryEmail } from '../../workflows/contracts';
import type { Segment } from '../../workflows/policy';
import { formatMoney, multiplyDecimal } from '../../workflows/money';

export const EMAIL_SCHEMA_VERSION = 1;

export interface EmailItemProperties {
  title: string;
  variant_title: string | null;
  quantity: number;
  /** Unit price, decimal string in `currency`. */
  price: string;
  price_formatted: string;
  /** quantity x price, decimal string. */
  line_price: string;
  line_price_formatted: string;
  image_url: string | null;
  product_url: string | null;
}

export interface RecoveryEmailProperties {
  schema_version: number;
  shop: string;
  checkout_token: string;
  first_name: string | null;
  /** 1-based number of this touch, and how many the sequence has. */
  touch: number;
  total_touches: number;
  segment: Segment;
  subject: string;
  preheader: string;
  items: EmailItemProperties[];
  /** Sum of quantities. */
  item_count: number;
  total: string;
  total_formatted: string;
  currency: string;
  /** Shopify's restore link (`abandoned_checkout_url`), possibly wrapped for click tracking. */
  restore_url: string;
  /** Null (and percent 0) when this touch carries no discount. */
  discount_code: string | null;
  discount_percent: number;
  discount_expires_at: string | null;
  discount_expires_formatted: string | null;
}

export function recoveryEmailProperties(email: RecoveryEmail, locale: string): RecoveryEmailProperties {
  const money = (amount: string) => formatMoney(amount, email.currency, locale);
  return {
    schema_version: EMAIL_SCHEMA_VERSION,
    shop: email.shop,
    checkout_token: email.checkoutToken,
    first_name: email.firstName,
    touch: email.touch,
    total_touches: email.totalTouches,
    segment: email.segment,
    subject: email.subject,
    preheader: email.preheader,
    items: email.items.map((item) => {
      const linePrice = multiplyDecimal(item.price, item.quantity);
      return {
        title: item.title,
        variant_title: item.variantTitle,
        quantity: item.quantity,
        price: item.price,
        price_formatted: money(item.price),
        line_price: linePrice,
        line_price_formatted: money(linePrice),
        image_url: item.imageUrl,
        product_url: item.productUrl,
      };
    }),
    item_count: email.items.reduce((n, item) => n + item.quantity, 0),
    total: email.total,
    total_formatted: money(email.total),
    currency: email.currency,
    restore_url: email.restoreUrl,
    discount_code: email.discount?.code ?? null,
    discount_percent: email.discount?.percent ?? 0,
    discount_expires_at: email.discount?.expiresAt ?? null,
    discount_expires_formatted: email.discount ? formatInstant(email.discount.expiresAt, locale) : null,
  };
}

/** An ISO instant as a short, unambiguous date and time in UTC, e.g. "Nov 27, 2026, 18:00 UTC". */
function formatInstant(iso: string, locale: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return (
    new Intl.DateTimeFormat(locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }).format(at) + ' UTC'
  );
}

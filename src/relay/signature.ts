/**
 * Shopify webhook signatures: `base64(HMAC-SHA256(secret, raw body bytes))` in
 * `X-Shopify-Hmac-Sha256`. Verified over the exact bytes received (never re-serialised JSON),
 * compared in constant time, against every secret in force for the shop (two during a rotation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { normaliseShopDomain } from '../workflows/ids';

export interface WebhookSecrets {
  /** Secrets for every shop without an entry of its own. */
  secrets: readonly string[];
  /** Per-shop secrets (lower-case shop domain); they replace `secrets` for that shop. */
  shopSecrets: Readonly<Record<string, readonly string[]>>;
}

export function secretsForShop(config: WebhookSecrets, shop: string | undefined): readonly string[] {
  if (shop) {
    const own = config.shopSecrets[normaliseShopDomain(shop)];
    if (own && own.length > 0) return own;
  }
  return config.secrets;
}

export function signShopifyBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** True when `header` is a valid signature of `rawBody` under one of `secrets`. */
export function verifyShopifyHmac(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  if (!header || secrets.length === 0) return false;
  const given = header.trim();
  // Buffer.from(..., 'base64') silently skips junk; insist on canonical base64 of 32 bytes.
  if (!BASE64.test(given)) return false;
  const givenBytes = Buffer.from(given, 'base64');
  if (givenBytes.length !== 32) return false;
  let match = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every secret is tried, so the time taken does not tell which one matched.
    if (timingSafeEqual(expected, givenBytes)) match = true;
  }
  return match;
}

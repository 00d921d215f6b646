/**
 * Discount codes derived from the touch's business key and a secret. The same key always gives
 * the same code, so an attempt that created a code but lost Shopify's answer is followed by one
 * that asks for the same code, gets `TAKEN`, and finds ours instead of minting a second. The
 * secret keeps codes unguessable: knowing a checkout token does not give its codes away.
 */
import { createHmac } from 'node:crypto';

/** Crockford's base32 alphabet: no I, L, O, U, so a code read aloud or retyped survives. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 10; // 50 bits

export function deriveDiscountCode(key: string, secret: string, percent: number): string {
  const digest = createHmac('sha256', secret).update(`cart-recovery/discount-code/v1\n${key}`).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < RANDOM_CHARS) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === RANDOM_CHARS) break;
  }
  return `BACK${percent}-${out}`;
}

/** The discount's title in the Shopify admin: says what it is and which touch minted it. */
export function discountTitle(key: string, percent: number): string {
  return `Cart recovery ${percent}% (${key})`.slice(0, 255);
}

/** `123` or `gid://shopify/Customer/123` -> the gid; undefined for anything else. */
export function toGid(kind: 'Customer' | 'ProductVariant', id: string): string | undefined {
  const trimmed = id.trim();
  if (/^\d+$/.test(trimmed)) return `gid://shopify/${kind}/${trimmed}`;
  if (new RegExp(`^gid://shopify/${kind}/\\d+$`).test(trimmed)) return trimmed;
  return undefined;
}

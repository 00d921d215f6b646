/**
 * Business idempotency keys and pseudonymous customer keys, built in workflow code from
 * business identities only (shop, checkout token, touch number): never from activity ids,
 * which restart after continue-as-new. Pure and workflow-safe.
 */
import { checkoutKey } from './ids';

export type StepName =
  | 'enrich'
  | 'ticket'
  | 'gate'
  | `touch-${number}:prepare`
  | `touch-${number}:code`
  | `touch-${number}:code-${number}`
  | `touch-${number}:revoke`
  | `touch-${number}:send`
  | `touch-${number}:metric`
  | 'abandoned:metric'
  | 'converted:metric'
  | 'outcome:metric';

/** `<shop>:<checkout>:<step>`, e.g. `shop.myshopify.com:abc123:touch-2:send`. */
export function stepKey(shop: string, checkoutToken: string, step: StepName): string {
  return `${checkoutKey(shop, checkoutToken)}:${step}`;
}

/** 32-bit FNV-1a: a stable bucket for the control group. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/**
 * The customer identity of the frequency cap: a 64-bit FNV-1a hash of the lower-cased email.
 * Email, not Shopify customer id, because guests have no customer id and the cap protects the
 * inbox. A hash keeps the address out of workflow ids (it is pseudonymous, not secret).
 */
export function customerKey(email: string): string {
  let hash = FNV64_OFFSET;
  const text = email.trim().toLowerCase();
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * FNV64_PRIME) & MASK64;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * Stable workflow ids. A checkout's workflow id is derived from the shop domain and the
 * checkout token only, so every webhook about the checkout, from any relay replica and in any
 * order, reaches the same workflow: `cart:<shop-domain>:<checkout-token>`.
 */
export const CART_WORKFLOW_TYPE = 'cartRecovery';

export function normaliseShopDomain(shop: string): string {
  return shop.trim().toLowerCase();
}

export function cartWorkflowId(shop: string, checkoutToken: string): string {
  return `cart:${normaliseShopDomain(shop)}:${checkoutToken.trim()}`;
}

/** Business idempotency key prefix for everything done for one checkout. */
export function checkoutKey(shop: string, checkoutToken: string): string {
  return `${normaliseShopDomain(shop)}:${checkoutToken.trim()}`;
}

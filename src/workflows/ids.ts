/**
 * Stable workflow ids. A checkout's workflow id is derived from the shop domain and the
 * checkout token only, so every webhook about the checkout, from any relay replica and in any
 * order, reaches the same workflow: `cart:<shop-domain>:<checkout-token>`.
 */
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

/**
 * `customer:<shop>:<customer-key>`. The key is a hash of the normalised email (see
 * `customerKey`), so no email address ever appears in a workflow id or in the Web UI.
 */
export function customerGateWorkflowId(shop: string, customerKey: string): string {
  return `customer:${normaliseShopDomain(shop)}:${customerKey}`;
}

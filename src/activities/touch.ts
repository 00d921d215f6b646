/**
 * Compositions of the Shopify activities, each one activity (one billable action):
 * `prepareTouch`, the work before a touch (stock and images, then the code swap), and
 * `revokeDiscountCodes`, the codes still live when a cart ends. Composed from the vendor activities, so it carries their idempotency: every call
 * inside has its own business key and a retry finds what the previous attempt created.
 */
import type {
  PreparedTouch,
  PrepareTouchInput,
  RevokeCodesInput,
  ShopifyActivities,
} from '../workflows/contracts';

export async function prepareTouch(
  shopify: ShopifyActivities,
  input: PrepareTouchInput,
): Promise<PreparedTouch> {
  const variants = await shopify.lookupVariants(input.stock);
  const available = variants.some((v) => v.available);
  // Nothing left to buy: the workflow stops; a new code would only be a leak.
  if (!available) return { variants, code: null, revoked: false };
  let revoked = false;
  if (input.revoke && input.issue) {
    await shopify.revokeDiscountCode(input.revoke);
    revoked = true;
  }
  const code = input.issue ? await shopify.issueDiscountCode(input.issue) : null;
  return { variants, code, revoked };
}

/**
 * `revokeDiscountCodes`: the codes still live at the end of a cart. Deactivation is idempotent,
 * so a retry after a partial failure simply deactivates them all again.
 */
export async function revokeDiscountCodes(
  shopify: ShopifyActivities,
  input: RevokeCodesInput,
): Promise<void> {
  for (const code of input.codes) await shopify.revokeDiscountCode(code);
}

/**
 * `prepareTouch`: the Shopify work before a touch as one activity (stock and images, then the
 * code swap). Composed from the vendor activities, so it carries their idempotency: every call
 * inside has its own business key and a retry finds what the previous attempt created.
 */
import type { PreparedTouch, PrepareTouchInput, ShopifyActivities } from '../workflows/contracts';

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

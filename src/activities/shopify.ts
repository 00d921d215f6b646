/**
 * Shopify Admin activities: single-use discount codes (issue, revoke) and variant facts for the
 * email (image, product link, availability). They run against a `ShopifyAdminClient`: the live
 * GraphQL client or the local sandbox, with the same checks and idempotency either way.
 */
import type {
  DiscountCode,
  IssueCodeInput,
  RevokeCodeInput,
  ShopifyActivities,
  StockInput,
  VariantFacts,
} from '../workflows/contracts';
import type { ShopifyAdminClient } from '../vendors/shopify/client';
import { deriveDiscountCode, discountTitle, toGid } from '../vendors/shopify/discount-codes';
import { unavailable, vendorRefused } from '../vendors/failures';
import { isIsoInstant, requireInput } from '../vendors/validate';
import { logger } from '../logger';

export interface ShopifyActivityDeps {
  client: ShopifyAdminClient;
  /** Secret the codes are derived from (DISCOUNT_CODE_SECRET). */
  discountCodeSecret: string;
}

export function createShopifyActivities(deps: ShopifyActivityDeps): ShopifyActivities {
  return {
    async issueDiscountCode(input: IssueCodeInput): Promise<DiscountCode> {
      const op = 'discount code creation';
      requireInput('Shopify', op, input.key.trim() !== '', 'key', 'a business idempotency key');
      requireInput(
        'Shopify',
        op,
        Number.isInteger(input.percent) && input.percent >= 1 && input.percent <= 100,
        'percent',
        'a whole percentage 1..100',
      );
      requireInput('Shopify', op, isIsoInstant(input.startsAt), 'startsAt', 'an ISO-8601 instant');
      requireInput('Shopify', op, isIsoInstant(input.endsAt), 'endsAt', 'an ISO-8601 instant');
      requireInput(
        'Shopify',
        op,
        Date.parse(input.endsAt) > Date.parse(input.startsAt),
        'endsAt',
        'a time after startsAt',
      );
      const customerGid = input.customerId === null ? null : toGid('Customer', input.customerId);
      requireInput('Shopify', op, customerGid !== undefined, 'customerId', 'a Shopify customer id or gid');

      const code = deriveDiscountCode(input.key, deps.discountCodeSecret, input.percent);
      const created = await deps.client.createDiscountCode({
        title: discountTitle(input.key, input.percent),
        code,
        percent: input.percent,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        customerGid: customerGid ?? null,
      });
      if (created.outcome === 'created') {
        logger.info('shopify: discount code created', { key: input.key, discountId: created.id });
        return { code, id: created.id, expiresAt: created.endsAt };
      }
      // TAKEN: an earlier attempt created it and its answer was lost. The code comes from our
      // key and secret, so it is ours: find its id instead of minting a second one.
      const existing = await deps.client.findDiscountCode(code);
      if (!existing) {
        // Taken but not found: Shopify's index lags behind; the next attempt will see it.
        throw unavailable(
          { vendor: 'Shopify', operation: 'discount code lookup', status: 200, codes: ['TAKEN'] },
          'the code is taken but not found yet',
        );
      }
      if (existing.status === 'EXPIRED') {
        // Ours, but deactivated or past its end: emailing it would hand the customer a dead
        // code. The workflow never asks again for a key it revoked (it reuses a live code or
        // issues under a new key), so this is a refusal, not something a retry can fix.
        throw vendorRefused(
          {
            vendor: 'Shopify',
            operation: 'discount code creation',
            status: 200,
            codes: ['TAKEN', 'EXPIRED'],
          },
          'the code for this key exists but is no longer active',
        );
      }
      logger.info('shopify: discount code already existed, reused', {
        key: input.key,
        discountId: existing.id,
      });
      return { code, id: existing.id, expiresAt: existing.endsAt ?? input.endsAt };
    },

    async revokeDiscountCode(input: RevokeCodeInput): Promise<void> {
      requireInput('Shopify', 'discount code deactivation', input.id.trim() !== '', 'id', 'the discount id');
      const result = await deps.client.deactivateDiscount(input.id);
      logger.info('shopify: discount code revoked', { key: input.key, discountId: input.id, result });
    },

    async lookupVariants(input: StockInput): Promise<VariantFacts[]> {
      const gids = new Map<string, string>();
      for (const item of input.items) {
        const gid = item.variantId === null ? undefined : toGid('ProductVariant', item.variantId);
        if (gid) gids.set(item.key, gid);
      }
      const found = gids.size > 0 ? await deps.client.variants([...new Set(gids.values())]) : {};
      return input.items.map((item): VariantFacts => {
        const gid = gids.get(item.key);
        // A custom line item (no variant) cannot be looked up, and cannot run out.
        if (!gid) return { lineKey: item.key, available: true, imageUrl: null, productUrl: null };
        const variant = found[gid];
        // A variant Shopify no longer knows was deleted: it cannot be bought.
        if (!variant) return { lineKey: item.key, available: false, imageUrl: null, productUrl: null };
        const short =
          variant.tracked === true &&
          variant.inventoryPolicy === 'DENY' &&
          variant.inventoryQuantity !== null &&
          variant.inventoryQuantity < item.quantity;
        return {
          lineKey: item.key,
          available: variant.availableForSale && !short,
          imageUrl: variant.imageUrl,
          productUrl: variant.productUrl,
        };
      });
    },
  };
}

/**
 * Wiring of the vendor activities (Klaviyo, Shopify Admin, Gorgias): live clients when the
 * vendor is configured, the local sandbox otherwise. Owned by the vendor-integrations work.
 */
import type { Config } from '../config';
import type { GorgiasActivities, KlaviyoActivities, ShopifyActivities } from './contracts';

export interface VendorActivities {
  klaviyo: KlaviyoActivities;
  shopify: ShopifyActivities;
  gorgias: GorgiasActivities;
  modes: Record<'klaviyo' | 'shopify' | 'gorgias', string>;
  close(): Promise<void>;
}

export async function buildVendorActivities(_config: Config): Promise<VendorActivities> {
  await Promise.resolve();
  throw new Error('buildVendorActivities: not implemented yet (vendor integrations)');
}

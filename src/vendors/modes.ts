/** How each vendor runs, from the configuration alone: `sandbox` or `live (<where>)`. */
import type { Config } from '../config';

export type VendorName = 'klaviyo' | 'shopify' | 'gorgias';

export function vendorModes(config: Config): Record<VendorName, string> {
  const { klaviyo, shopify, gorgias } = config.vendors;
  const host = (url: string) => new URL(url).host;
  return {
    klaviyo: klaviyo.live ? `live (${host(klaviyo.live.baseUrl)})` : 'sandbox',
    shopify: shopify.live ? `live (${shopify.live.shopDomain}, API ${shopify.apiVersion})` : 'sandbox',
    gorgias: gorgias.live ? `live (${host(gorgias.live.baseUrl)})` : 'sandbox',
  };
}

/**
 * Wiring of the vendor activities (Klaviyo, Shopify Admin, Gorgias): the live client when the
 * vendor is configured, the local sandbox otherwise. Which one is decided by src/config/views.ts (a
 * half-configured vendor never gets here: it is a configuration error), and the activities on
 * top are the same code either way, so the sandbox checks and dedupes exactly like production.
 */
import type { Config } from '../config';
import type { GorgiasActivities, KlaviyoActivities, ShopifyActivities } from '../workflows/contracts';
import { createKlaviyoActivities } from './klaviyo';
import { createShopifyActivities } from './shopify';
import { createGorgiasActivities } from './gorgias';
import { createKlaviyoClient, type KlaviyoClient } from '../vendors/klaviyo/client';
import { createShopifyAdminClient, type ShopifyAdminClient } from '../vendors/shopify/client';
import { createGorgiasClient, type GorgiasClient } from '../vendors/gorgias/client';
import { SandboxKlaviyo } from '../vendors/sandbox/klaviyo';
import { SandboxShopify } from '../vendors/sandbox/shopify';
import { SandboxGorgias } from '../vendors/sandbox/gorgias';
import { vendorModes, type VendorName } from '../vendors/modes';

export interface VendorActivities {
  klaviyo: KlaviyoActivities;
  shopify: ShopifyActivities;
  gorgias: GorgiasActivities;
  /** e.g. `sandbox` or `live (mystore.myshopify.com)`, printed at start. */
  modes: Record<VendorName, string>;
  close(): Promise<void>;
}

/** In the sandbox codes only need to be unique, not secret. */
const SANDBOX_CODE_SECRET = 'sandbox-discount-codes-are-not-secret';

export interface VendorClients {
  klaviyo: KlaviyoClient;
  shopify: ShopifyAdminClient;
  gorgias: GorgiasClient;
  modes: Record<VendorName, string>;
}

/** The clients the configuration asks for: live ones for configured vendors, sandboxes otherwise. */
export function buildVendorClients(config: Config): VendorClients {
  const { vendors, dataDir } = config;
  const timeoutMs = vendors.httpTimeoutMs;
  const k = vendors.klaviyo.live;
  const s = vendors.shopify.live;
  const g = vendors.gorgias.live;
  return {
    klaviyo: k ? createKlaviyoClient({ ...k, timeoutMs }) : new SandboxKlaviyo({ dataDir }),
    shopify: s
      ? createShopifyAdminClient({ ...s, apiVersion: vendors.shopify.apiVersion, timeoutMs })
      : new SandboxShopify({ dataDir }),
    gorgias: g ? createGorgiasClient({ ...g, timeoutMs }) : new SandboxGorgias({ dataDir }),
    modes: vendorModes(config),
  };
}

export function vendorActivitiesFrom(config: Config, clients: VendorClients): VendorActivities {
  const { vendors } = config;
  return {
    klaviyo: createKlaviyoActivities({
      client: clients.klaviyo,
      recoveryMetric: vendors.klaviyo.recoveryMetric,
      vipClvThreshold: vendors.klaviyo.vipClvThreshold,
      vipSegmentId: vendors.klaviyo.vipSegmentId,
      locale: vendors.emailLocale,
    }),
    shopify: createShopifyActivities({
      client: clients.shopify,
      discountCodeSecret: vendors.shopify.live?.discountCodeSecret ?? SANDBOX_CODE_SECRET,
    }),
    gorgias: createGorgiasActivities({ client: clients.gorgias, locale: vendors.emailLocale }),
    modes: clients.modes,
    // The clients hold no pooled connections or timers: nothing to release.
    close: () => Promise.resolve(),
  };
}

export function buildVendorActivities(config: Config): VendorActivities {
  return vendorActivitiesFrom(config, buildVendorClients(config));
}

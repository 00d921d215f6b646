/**
 * Shopify Admin in the sandbox: a `ShopifyAdminClient` keeping discount codes on disk
 * (DATA_DIR/sandbox/shopify-discounts). Codes are unique (a second create of a code answers
 * `taken`, as Shopify answers TAKEN), can be looked up by code and deactivated by id, and
 * refuse what Shopify refuses. Variants are available and get a generated placeholder image
 * unless DATA_DIR/sandbox/shopify-catalog.json says otherwise.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type {
  CreateDiscountCodeInput,
  CreateDiscountCodeResult,
  DeactivateResult,
  DiscountCodeFacts,
  ShopifyAdminClient,
  VariantInfo,
} from '../shopify/client';
import { gidNumber } from '../shopify/client';
import { vendorRefused } from '../failures';
import { escapeHtml } from '../html';
import { JsonDirectory } from './store';
import { sandboxPaths } from './paths';

export interface SandboxDiscount {
  id: string;
  code: string;
  title: string;
  percent: number;
  startsAt: string;
  endsAt: string;
  customerGid: string | null;
  usageLimit: 1;
  createdAt: string;
  deactivatedAt: string | null;
}

/** One entry of shopify-catalog.json, keyed by variant id or gid (all fields optional). */
export interface SandboxCatalogEntry {
  title?: string;
  available?: boolean;
  inventoryQuantity?: number;
  imageUrl?: string;
  productUrl?: string;
}

/** A small SVG tile standing in for a product photo, as a data URI (no network needed). */
export function placeholderImage(seed: string, label = 'Product'): string {
  const hue = parseInt(createHash('sha256').update(seed).digest('hex').slice(0, 4), 16) % 360;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">` +
    `<rect width="160" height="160" rx="12" fill="hsl(${hue},55%,86%)"/>` +
    `<path d="M52 62h56l-6 58H58z" fill="hsl(${hue},45%,45%)"/>` +
    `<path d="M66 62v-8a14 14 0 0 1 28 0v8" fill="none" stroke="hsl(${hue},45%,45%)" stroke-width="6"/>` +
    `<text x="80" y="146" font-family="sans-serif" font-size="13" text-anchor="middle" fill="hsl(${hue},40%,30%)">${escapeHtml(label.slice(0, 20))}</text>` +
    `</svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

const GID = /^gid:\/\/shopify\/(Customer|ProductVariant|DiscountCodeNode)\/\d+$/;

export interface SandboxShopifyOptions {
  dataDir: string;
  now?: () => Date;
}

export class SandboxShopify implements ShopifyAdminClient {
  readonly discounts: JsonDirectory<SandboxDiscount>;
  private readonly catalogFile: string;
  private readonly now: () => Date;

  constructor(options: SandboxShopifyOptions) {
    const paths = sandboxPaths(options.dataDir);
    this.discounts = new JsonDirectory<SandboxDiscount>(paths.discounts);
    this.catalogFile = paths.shopifyCatalog;
    this.now = options.now ?? (() => new Date());
  }

  private refuse(operation: string, field: string, code = 'INVALID'): never {
    throw vendorRefused(
      { vendor: 'Shopify', operation, status: 200, codes: [code] },
      `user errors (${code} at basicCodeDiscount.${field})`,
    );
  }

  async createDiscountCode(input: CreateDiscountCodeInput): Promise<CreateDiscountCodeResult> {
    const op = 'discount code creation';
    if (!/^[^\s]{1,255}$/.test(input.code)) this.refuse(op, 'code');
    if (input.title.trim() === '') this.refuse(op, 'title', 'BLANK');
    if (!(input.percent > 0 && input.percent <= 100)) this.refuse(op, 'customerGets.value.percentage');
    if (!(Date.parse(input.endsAt) > Date.parse(input.startsAt))) this.refuse(op, 'endsAt');
    if (input.customerGid !== null && !GID.test(input.customerGid)) this.refuse(op, 'context.customers.add');
    const key = input.code.toUpperCase(); // Shopify codes are case-insensitive
    const id = `gid://shopify/DiscountCodeNode/${BigInt(`0x${createHash('sha256').update(key).digest('hex').slice(0, 12)}`)}`;
    const created = await this.discounts.create(key, {
      id,
      code: input.code,
      title: input.title,
      percent: input.percent,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      customerGid: input.customerGid,
      usageLimit: 1,
      createdAt: this.now().toISOString(),
      deactivatedAt: null,
    });
    return created ? { outcome: 'created', id, endsAt: input.endsAt } : { outcome: 'taken' };
  }

  status(discount: SandboxDiscount): 'ACTIVE' | 'EXPIRED' | 'SCHEDULED' {
    const now = this.now().getTime();
    if (discount.deactivatedAt || Date.parse(discount.endsAt) <= now) return 'EXPIRED';
    return Date.parse(discount.startsAt) > now ? 'SCHEDULED' : 'ACTIVE';
  }

  async findDiscountCode(code: string): Promise<DiscountCodeFacts | null> {
    const discount = await this.discounts.get(code.toUpperCase());
    if (!discount) return null;
    return { id: discount.id, title: discount.title, endsAt: discount.endsAt, status: this.status(discount) };
  }

  async deactivateDiscount(id: string): Promise<DeactivateResult> {
    const discount = (await this.discounts.all()).find((d) => d.id === id);
    if (!discount) return 'not_found';
    if (!discount.deactivatedAt) {
      // As Shopify does: deactivation ends the discount now.
      const now = this.now().toISOString();
      await this.discounts.put(discount.code.toUpperCase(), {
        ...discount,
        deactivatedAt: now,
        endsAt: Date.parse(discount.endsAt) > Date.parse(now) ? now : discount.endsAt,
      });
    }
    return 'deactivated';
  }

  private async catalog(): Promise<Record<string, SandboxCatalogEntry>> {
    try {
      return JSON.parse(await fs.readFile(this.catalogFile, 'utf8')) as Record<string, SandboxCatalogEntry>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  async variants(variantGids: string[]): Promise<Record<string, VariantInfo>> {
    const catalog = await this.catalog();
    const out: Record<string, VariantInfo> = {};
    for (const gid of variantGids) {
      const entry = catalog[gid] ?? catalog[gidNumber(gid)];
      out[gid] = {
        availableForSale: entry?.available ?? true,
        inventoryQuantity: entry?.inventoryQuantity ?? null,
        inventoryPolicy: entry?.inventoryQuantity === undefined ? null : 'DENY',
        tracked: entry?.inventoryQuantity === undefined ? null : true,
        imageUrl: entry?.imageUrl ?? placeholderImage(gid, entry?.title),
        productUrl: entry?.productUrl ?? null,
      };
    }
    return out;
  }
}

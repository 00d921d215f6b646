/**
 * The Shopify Admin GraphQL client: discount codes and variant facts, over axios. The
 * `ShopifyAdminClient` interface is the seam: the live implementation below talks to
 * `https://<shop>/admin/api/<version>/graphql.json` (or a test fake), the sandbox implements it
 * locally.
 *
 * Shopify signals throttling two ways, and both become a retry after the delay Shopify implies:
 * HTTP 429 with `Retry-After`, and HTTP 200 with a `THROTTLED` error, whose wait we compute from
 * the cost extension (points missing / restore rate).
 */
import axios from 'axios';
import type { ApplicationFailure } from '@temporalio/common';
import {
  classifyTransport,
  credentialsRejected,
  rateLimited,
  unavailable,
  unexpected,
  vendorRefused,
  viewHttpError,
  type VendorErrorFacts,
} from '../failures';

export interface CreateDiscountCodeInput {
  title: string;
  code: string;
  /** Whole percent, 1..100. */
  percent: number;
  startsAt: string;
  endsAt: string;
  /** `gid://shopify/Customer/<id>`; null: any buyer (the code is unguessable and single-use). */
  customerGid: string | null;
}

export type CreateDiscountCodeResult =
  | { outcome: 'created'; id: string; endsAt: string }
  /** The code exists already (Shopify `TAKEN`): for a code derived from our key, ours. */
  | { outcome: 'taken' };

export interface DiscountCodeFacts {
  id: string;
  title: string | null;
  endsAt: string | null;
  /** Shopify's DiscountStatus: ACTIVE, EXPIRED, SCHEDULED. */
  status: string | null;
}

export type DeactivateResult = 'deactivated' | 'not_found';

export interface VariantInfo {
  availableForSale: boolean;
  inventoryQuantity: number | null;
  /** DENY: no sale beyond stock; CONTINUE: oversell allowed. */
  inventoryPolicy: string | null;
  tracked: boolean | null;
  imageUrl: string | null;
  productUrl: string | null;
}

export interface ShopifyAdminClient {
  createDiscountCode(input: CreateDiscountCodeInput): Promise<CreateDiscountCodeResult>;
  findDiscountCode(code: string): Promise<DiscountCodeFacts | null>;
  deactivateDiscount(id: string): Promise<DeactivateResult>;
  /** Facts per variant gid; a variant Shopify no longer has is absent from the answer. */
  variants(variantGids: string[]): Promise<Record<string, VariantInfo>>;
}

export interface ShopifyLiveSettings {
  baseUrl: string;
  apiVersion: string;
  accessToken: string;
  timeoutMs: number;
}

const CREDENTIAL = 'SHOPIFY_ADMIN_ACCESS_TOKEN';
const SCOPES = 'write_discounts, read_products, read_inventory';
/** The `nodes` query accepts at most 250 ids; carts are far smaller, but stay well inside. */
const VARIANT_BATCH = 100;

interface GraphQlError {
  message?: unknown;
  extensions?: { code?: unknown };
}
interface GraphQlAnswer<T> {
  data?: T | null;
  errors?: GraphQlError[] | string;
  extensions?: {
    cost?: {
      requestedQueryCost?: number;
      throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
    };
  };
}
export interface UserError {
  field?: string[] | null;
  code?: string | null;
  message?: string;
}

/** Wait implied by a THROTTLED answer: the missing points at the restore rate, at least 1 s. */
export function throttleDelayMs(answer: GraphQlAnswer<unknown>): number | undefined {
  const cost = answer.extensions?.cost;
  const status = cost?.throttleStatus;
  if (!status?.restoreRate || status.currentlyAvailable === undefined) return undefined;
  const needed = (cost?.requestedQueryCost ?? status.maximumAvailable ?? 0) - status.currentlyAvailable;
  return Math.max(1000, Math.ceil((Math.max(needed, 1) / status.restoreRate) * 1000));
}

function graphQlFailure(operation: string, answer: GraphQlAnswer<unknown>): ApplicationFailure | undefined {
  const errors = Array.isArray(answer.errors)
    ? answer.errors
    : answer.errors
      ? [{ message: answer.errors }]
      : [];
  if (errors.length === 0) return undefined;
  const codes = errors.map((e) =>
    typeof e.extensions?.code === 'string' ? e.extensions.code : 'GRAPHQL_ERROR',
  );
  const facts: VendorErrorFacts = { vendor: 'Shopify', operation, status: 200, codes };
  if (codes.includes('THROTTLED')) return rateLimited(facts, throttleDelayMs(answer) ?? 1000);
  if (codes.includes('ACCESS_DENIED'))
    return credentialsRejected({ ...facts, status: 403 }, `${CREDENTIAL} (scopes needed: ${SCOPES})`);
  if (codes.some((c) => c === 'INTERNAL_SERVER_ERROR' || c === 'SERVICE_UNAVAILABLE' || c === 'TIMEOUT')) {
    return unavailable(facts, codes.join(', '));
  }
  // Anything else (a field this API version lacks, a cost limit) is a mismatch a retry cannot fix.
  return vendorRefused(facts, `GraphQL errors ${codes.join(', ')} (check SHOPIFY_API_VERSION)`);
}

function httpFailure(operation: string, err: unknown): ApplicationFailure {
  const view = viewHttpError(err);
  const facts: VendorErrorFacts = { vendor: 'Shopify', operation, status: view?.status ?? null, codes: [] };
  if (!view) return unexpected(facts, err);
  const transport = classifyTransport(view, facts, {
    unauthorized: CREDENTIAL,
    forbidden: `${CREDENTIAL} (scopes needed: ${SCOPES})`,
  });
  if (transport) return transport;
  if (view.status === 404) {
    return vendorRefused(
      facts,
      'HTTP 404: no Admin API at this address (check SHOPIFY_SHOP_DOMAIN and SHOPIFY_API_VERSION)',
    );
  }
  if (view.status === 402 || view.status === 423) {
    return vendorRefused(facts, `HTTP ${view.status}: the shop is frozen or locked`);
  }
  return vendorRefused(facts, `HTTP ${view.status}`);
}

/** A non-TAKEN user error: the data was refused. Fields and codes only; messages may echo input. */
export function userErrorsFailure(operation: string, errors: UserError[]): ApplicationFailure {
  const codes = errors.map((e) => e.code ?? 'INVALID');
  const fields = errors.map((e) => (e.field ?? []).join('.')).filter(Boolean);
  const aboutCustomer = fields.some((f) => /customer|context/i.test(f));
  return vendorRefused(
    { vendor: 'Shopify', operation, status: 200, codes },
    `${aboutCustomer ? 'the customer is unknown to Shopify or cannot be targeted' : 'user errors'} (${codes.join(', ')}${fields.length ? ` at ${fields.join(', ')}` : ''})`,
  );
}

const CREATE_CODE = /* GraphQL */ `
  mutation CartRecoveryCreateCode($input: DiscountCodeBasicInput!) {
    discountCodeBasicCreate(basicCodeDiscount: $input) {
      codeDiscountNode {
        id
        codeDiscount {
          ... on DiscountCodeBasic {
            endsAt
          }
        }
      }
      userErrors {
        field
        code
        message
      }
    }
  }
`;

const FIND_CODE = /* GraphQL */ `
  query CartRecoveryFindCode($code: String!) {
    codeDiscountNodeByCode(code: $code) {
      id
      codeDiscount {
        ... on DiscountCodeBasic {
          title
          endsAt
          status
        }
      }
    }
  }
`;

const DEACTIVATE_CODE = /* GraphQL */ `
  mutation CartRecoveryDeactivateCode($id: ID!) {
    discountCodeDeactivate(id: $id) {
      codeDiscountNode {
        id
      }
      userErrors {
        field
        code
        message
      }
    }
  }
`;

const CODE_STATUS = /* GraphQL */ `
  query CartRecoveryCodeStatus($id: ID!) {
    codeDiscountNode(id: $id) {
      id
      codeDiscount {
        ... on DiscountCodeBasic {
          status
        }
      }
    }
  }
`;

const VARIANTS = /* GraphQL */ `
  query CartRecoveryVariants($ids: [ID!]!) {
    nodes(ids: $ids) {
      ... on ProductVariant {
        id
        availableForSale
        inventoryQuantity
        inventoryPolicy
        inventoryItem {
          tracked
        }
        image {
          url
        }
        product {
          onlineStoreUrl
          featuredMedia {
            preview {
              image {
                url
              }
            }
          }
        }
      }
    }
  }
`;

interface CodeNode {
  id: string;
  codeDiscount?: { title?: string; endsAt?: string | null; status?: string } | null;
}
interface VariantNode {
  id?: string;
  availableForSale?: boolean;
  inventoryQuantity?: number | null;
  inventoryPolicy?: string | null;
  inventoryItem?: { tracked?: boolean } | null;
  image?: { url?: string } | null;
  product?: {
    onlineStoreUrl?: string | null;
    featuredMedia?: { preview?: { image?: { url?: string } | null } | null } | null;
  } | null;
}

/** `gid://shopify/ProductVariant/123` -> "123". */
export function gidNumber(gid: string): string {
  return gid.slice(gid.lastIndexOf('/') + 1);
}

export function createShopifyAdminClient(settings: ShopifyLiveSettings): ShopifyAdminClient {
  const http = axios.create({
    baseURL: `${settings.baseUrl}/admin/api/${settings.apiVersion}`,
    timeout: settings.timeoutMs,
    headers: {
      'X-Shopify-Access-Token': settings.accessToken,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
  });

  async function graphql<T>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<T> {
    let answer: GraphQlAnswer<T>;
    try {
      const response = await http.post<GraphQlAnswer<T>>('/graphql.json', { query, variables });
      answer = response.data;
    } catch (err) {
      throw httpFailure(operation, err);
    }
    if (!answer || typeof answer !== 'object') {
      throw unavailable(
        { vendor: 'Shopify', operation, status: 200, codes: [] },
        'an answer that is not JSON',
      );
    }
    const failure = graphQlFailure(operation, answer);
    if (failure) throw failure;
    if (!answer.data)
      throw unavailable({ vendor: 'Shopify', operation, status: 200, codes: [] }, 'an answer without data');
    return answer.data;
  }

  return {
    async createDiscountCode(input) {
      const data = await graphql<{
        discountCodeBasicCreate: { codeDiscountNode: CodeNode | null; userErrors: UserError[] } | null;
      }>('discount code creation', CREATE_CODE, {
        input: {
          title: input.title,
          code: input.code,
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          usageLimit: 1,
          appliesOncePerCustomer: true,
          customerGets: { value: { percentage: input.percent / 100 }, items: { all: true } },
          context: input.customerGid ? { customers: { add: [input.customerGid] } } : { all: 'ALL' },
        },
      });
      const result = data.discountCodeBasicCreate;
      const errors = result?.userErrors ?? [];
      if (errors.length > 0) {
        const taken = errors.every((e) => e.code === 'TAKEN');
        if (taken) return { outcome: 'taken' };
        throw userErrorsFailure('discount code creation', errors);
      }
      if (!result?.codeDiscountNode) {
        throw unavailable(
          { vendor: 'Shopify', operation: 'discount code creation', status: 200, codes: [] },
          'no discount in the answer',
        );
      }
      return {
        outcome: 'created',
        id: result.codeDiscountNode.id,
        endsAt: result.codeDiscountNode.codeDiscount?.endsAt ?? input.endsAt,
      };
    },

    async findDiscountCode(code) {
      const data = await graphql<{ codeDiscountNodeByCode: CodeNode | null }>(
        'discount code lookup',
        FIND_CODE,
        {
          code,
        },
      );
      const node = data.codeDiscountNodeByCode;
      if (!node) return null;
      return {
        id: node.id,
        title: node.codeDiscount?.title ?? null,
        endsAt: node.codeDiscount?.endsAt ?? null,
        status: node.codeDiscount?.status ?? null,
      };
    },

    async deactivateDiscount(id) {
      const data = await graphql<{
        discountCodeDeactivate: { codeDiscountNode: CodeNode | null; userErrors: UserError[] } | null;
      }>('discount code deactivation', DEACTIVATE_CODE, { id });
      const result = data.discountCodeDeactivate;
      const errors = result?.userErrors ?? [];
      if (errors.length > 0) {
        // Deactivating twice (a retry) or a discount the merchant deleted is not a failure:
        // whatever Shopify says, ask what the discount's state is now.
        const now = await graphql<{ codeDiscountNode: CodeNode | null }>(
          'discount code lookup',
          CODE_STATUS,
          { id },
        );
        if (!now.codeDiscountNode) return 'not_found';
        if (now.codeDiscountNode.codeDiscount?.status === 'EXPIRED') return 'deactivated';
        throw userErrorsFailure('discount code deactivation', errors);
      }
      return result?.codeDiscountNode ? 'deactivated' : 'not_found';
    },

    async variants(variantGids) {
      const out: Record<string, VariantInfo> = {};
      for (let i = 0; i < variantGids.length; i += VARIANT_BATCH) {
        const ids = variantGids.slice(i, i + VARIANT_BATCH);
        const data = await graphql<{ nodes: (VariantNode | null)[] }>('variant lookup', VARIANTS, { ids });
        for (const node of data.nodes ?? []) {
          if (!node?.id) continue;
          const productUrl = node.product?.onlineStoreUrl
            ? `${node.product.onlineStoreUrl}?variant=${gidNumber(node.id)}`
            : null;
          out[node.id] = {
            availableForSale: node.availableForSale ?? false,
            inventoryQuantity: node.inventoryQuantity ?? null,
            inventoryPolicy: node.inventoryPolicy ?? null,
            tracked: node.inventoryItem?.tracked ?? null,
            imageUrl: node.image?.url ?? node.product?.featuredMedia?.preview?.image?.url ?? null,
            productUrl,
          };
        }
      }
      return out;
    },
  };
}

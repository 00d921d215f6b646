/**
 * A local Shopify Admin GraphQL endpoint that checks what Shopify checks: the
 * `X-Shopify-Access-Token` header, a supported API version in the path, the shape of
 * `DiscountCodeBasicInput` (with `context`, not the deprecated `customerSelection`), unique
 * codes (`TAKEN`), known customers; and answers with cost extensions, THROTTLED, 429 and 5xx.
 *
 * It recognises operations by their root field, not by our operation names, so a query renamed
 * on our side still meets the same checks.
 */
import type { Request } from 'express';
import { FakeVendor, type Answer, type Fault } from './server';

export interface FakeDiscount {
  id: string;
  code: string;
  title: string;
  startsAt: string;
  endsAt: string | null;
  percentage: number;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  context: unknown;
  deactivated: boolean;
}

export interface FakeVariant {
  availableForSale: boolean;
  inventoryQuantity: number;
  inventoryPolicy: 'DENY' | 'CONTINUE';
  tracked: boolean;
  imageUrl: string | null;
  productImageUrl: string | null;
  onlineStoreUrl: string | null;
}

const SUPPORTED_VERSIONS = ['2025-10', '2026-01', '2026-04', '2026-07', '2026-10'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

type UserError = { field: string[] | null; code: string | null; message: string };

export class FakeShopify extends FakeVendor {
  readonly discounts: FakeDiscount[] = [];
  readonly customers = new Set<string>();
  readonly variants = new Map<string, FakeVariant>();
  private nextId = 1_000_000;

  constructor(readonly accessToken: string) {
    super();
    this.app.post('/admin/api/:version/graphql.json', (req, res) => {
      const query =
        typeof (req.body as { query?: unknown })?.query === 'string'
          ? (req.body as { query: string }).query
          : '';
      void this.answer(this.operationOf(query), req, res, () => this.graphql(req, query));
    });
  }

  protected errorBody(status: number): unknown {
    return {
      errors: status === 429 ? 'Exceeded 2 calls per second for api client.' : 'Internal Server Error',
    };
  }

  protected override throttledAnswer(cost: NonNullable<Fault['throttled']>): Answer {
    return {
      status: 200,
      body: {
        errors: [
          {
            message: 'Throttled',
            extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
          },
        ],
        extensions: {
          cost: {
            requestedQueryCost: cost.requestedQueryCost,
            actualQueryCost: null,
            throttleStatus: {
              maximumAvailable: 2000,
              currentlyAvailable: cost.currentlyAvailable,
              restoreRate: cost.restoreRate,
            },
          },
        },
      },
    };
  }

  private operationOf(query: string): string {
    for (const op of [
      'discountCodeBasicCreate',
      'codeDiscountNodeByCode',
      'discountCodeDeactivate',
      'codeDiscountNode',
      'nodes',
    ]) {
      if (new RegExp(`\\b${op}\\s*\\(`).test(query)) return op;
    }
    return 'unknown';
  }

  private argument(query: string, field: string, arg: string, variables: Record<string, unknown>): unknown {
    const m = new RegExp(`\\b${field}\\s*\\([^)]*\\b${arg}\\s*:\\s*\\$(\\w+)`).exec(query);
    return m ? variables[m[1]!] : undefined;
  }

  private stringArgument(
    query: string,
    field: string,
    arg: string,
    variables: Record<string, unknown>,
  ): string {
    const value = this.argument(query, field, arg, variables);
    return typeof value === 'string' ? value : '';
  }

  private ok(data: unknown): Answer {
    return {
      status: 200,
      body: {
        data,
        extensions: {
          cost: {
            requestedQueryCost: 10,
            actualQueryCost: 10,
            throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
          },
        },
      },
    };
  }

  private graphql(req: Request, query: string): Answer {
    if (req.get('x-shopify-access-token') !== this.accessToken) {
      return {
        status: 401,
        body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
      };
    }
    if (!SUPPORTED_VERSIONS.includes(String(req.params.version)))
      return { status: 404, body: { errors: 'Not Found' } };
    if (!(req.get('content-type') ?? '').includes('application/json'))
      return { status: 415, body: { errors: 'JSON expected' } };
    const variables = ((req.body as { variables?: unknown }).variables ?? {}) as Record<string, unknown>;
    const operation = this.operationOf(query);
    switch (operation) {
      case 'discountCodeBasicCreate':
        return this.ok({
          discountCodeBasicCreate: this.create(
            this.argument(query, operation, 'basicCodeDiscount', variables),
          ),
        });
      case 'codeDiscountNodeByCode': {
        const code = this.stringArgument(query, operation, 'code', variables);
        const found = this.discounts.find((d) => d.code.toUpperCase() === code.toUpperCase());
        return this.ok({ codeDiscountNodeByCode: found ? this.node(found) : null });
      }
      case 'discountCodeDeactivate':
        return this.ok({
          discountCodeDeactivate: this.deactivate(this.stringArgument(query, operation, 'id', variables)),
        });
      case 'codeDiscountNode': {
        const id = this.stringArgument(query, operation, 'id', variables);
        const found = this.discounts.find((d) => d.id === id);
        return this.ok({ codeDiscountNode: found ? this.node(found) : null });
      }
      case 'nodes': {
        const ids = this.argument(query, operation, 'ids', variables);
        if (!Array.isArray(ids) || ids.length > 250) {
          return {
            status: 200,
            body: {
              errors: [
                { message: 'ids must be a list of at most 250', extensions: { code: 'BAD_USER_INPUT' } },
              ],
            },
          };
        }
        return this.ok({ nodes: ids.map((id) => this.variantNode(String(id))) });
      }
      default:
        return {
          status: 200,
          body: { errors: [{ message: 'Field does not exist', extensions: { code: 'undefinedField' } }] },
        };
    }
  }

  private status(d: FakeDiscount): string {
    if (d.deactivated || (d.endsAt && Date.parse(d.endsAt) <= Date.now())) return 'EXPIRED';
    return Date.parse(d.startsAt) > Date.now() ? 'SCHEDULED' : 'ACTIVE';
  }

  private node(d: FakeDiscount) {
    return {
      id: d.id,
      codeDiscount: {
        __typename: 'DiscountCodeBasic',
        title: d.title,
        endsAt: d.endsAt,
        status: this.status(d),
      },
    };
  }

  private create(input: unknown): { codeDiscountNode: unknown; userErrors: UserError[] } {
    const errors: UserError[] = [];
    const fail = (field: string[], code: string, message: string) =>
      errors.push({ field: ['basicCodeDiscount', ...field], code, message });
    const i = (input ?? {}) as Record<string, unknown>;
    if (typeof i.title !== 'string' || i.title.trim() === '')
      fail(['title'], 'BLANK', "Title can't be blank");
    if (typeof i.code !== 'string' || i.code.trim() === '') fail(['code'], 'BLANK', "Code can't be blank");
    if (typeof i.startsAt !== 'string' || !ISO.test(i.startsAt))
      fail(['startsAt'], 'INVALID', 'Starts at is invalid');
    if (
      i.endsAt !== undefined &&
      (typeof i.endsAt !== 'string' ||
        !ISO.test(i.endsAt) ||
        Date.parse(i.endsAt) <= Date.parse(String(i.startsAt)))
    ) {
      fail(['endsAt'], 'INVALID', 'Ends at needs to be after starts_at');
    }
    const gets = i.customerGets as
      { value?: { percentage?: unknown }; items?: { all?: unknown } } | undefined;
    const percentage = gets?.value?.percentage;
    if (typeof percentage !== 'number' || !(percentage > 0 && percentage <= 1)) {
      fail(['customerGets', 'value', 'percentage'], 'INVALID', 'Percentage must be between 0 and 1');
    }
    if (gets?.items?.all !== true) fail(['customerGets', 'items'], 'INVALID', 'Items are required');
    if ('customerSelection' in i)
      fail(['customerSelection'], 'INVALID', 'customerSelection is deprecated: use context');
    const context = i.context as { all?: unknown; customers?: { add?: unknown } } | undefined;
    if (!context) fail(['context'], 'BLANK', "Context can't be blank");
    else if (context.all !== undefined && context.all !== 'ALL')
      fail(['context', 'all'], 'INVALID', 'Invalid value');
    else if (context.customers) {
      const add = context.customers.add;
      if (!Array.isArray(add) || add.some((g) => !this.customers.has(String(g)))) {
        fail(['context', 'customers', 'add'], 'INVALID', 'Customer does not exist');
      }
    }
    if (
      errors.length === 0 &&
      this.discounts.some((d) => d.code.toUpperCase() === String(i.code).toUpperCase())
    ) {
      fail(['code'], 'TAKEN', 'Code must be unique. Please try a different code.');
    }
    if (errors.length > 0) return { codeDiscountNode: null, userErrors: errors };
    const discount: FakeDiscount = {
      id: `gid://shopify/DiscountCodeNode/${this.nextId++}`,
      code: String(i.code),
      title: String(i.title),
      startsAt: String(i.startsAt),
      endsAt: typeof i.endsAt === 'string' ? i.endsAt : null,
      percentage: percentage as number,
      usageLimit: typeof i.usageLimit === 'number' ? i.usageLimit : null,
      appliesOncePerCustomer: i.appliesOncePerCustomer === true,
      context,
      deactivated: false,
    };
    this.discounts.push(discount);
    return { codeDiscountNode: this.node(discount), userErrors: [] };
  }

  private deactivate(id: string): { codeDiscountNode: unknown; userErrors: UserError[] } {
    const found = this.discounts.find((d) => d.id === id);
    if (!found)
      return {
        codeDiscountNode: null,
        userErrors: [{ field: ['id'], code: null, message: 'Discount does not exist' }],
      };
    if (this.status(found) === 'EXPIRED') {
      return {
        codeDiscountNode: null,
        userErrors: [{ field: ['id'], code: 'INVALID', message: 'Discount is already expired' }],
      };
    }
    found.deactivated = true;
    found.endsAt = new Date().toISOString();
    return { codeDiscountNode: this.node(found), userErrors: [] };
  }

  private variantNode(id: string) {
    const v = this.variants.get(id);
    if (!v) return null;
    return {
      __typename: 'ProductVariant',
      id,
      availableForSale: v.availableForSale,
      inventoryQuantity: v.inventoryQuantity,
      inventoryPolicy: v.inventoryPolicy,
      inventoryItem: { tracked: v.tracked },
      image: v.imageUrl ? { url: v.imageUrl } : null,
      product: {
        onlineStoreUrl: v.onlineStoreUrl,
        featuredMedia: v.productImageUrl ? { preview: { image: { url: v.productImageUrl } } } : null,
      },
    };
  }
}

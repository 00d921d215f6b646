import assert from 'node:assert/strict';
import { FailureType } from '../src/workflows/contracts';
import { buildVendorActivities } from '../src/activities/vendors';
import { RetryableFailureType } from '../src/vendors/failures';
import { deriveDiscountCode } from '../src/vendors/shopify/discount-codes';
import { FakeShopify } from './fakes/shopify';
import { SECRETS, liveConfig, rejectsWithFailure } from './fakes/vendor-env';
import { SHOP, sampleCodeInput } from './fakes/samples';

describe('Shopify Admin activities against the fake Admin GraphQL API (real axios client)', function () {
  let fake: FakeShopify;
  beforeEach(async () => {
    fake = await new FakeShopify(SECRETS.shopifyToken).start();
    fake.customers.add('gid://shopify/Customer/7001');
  });
  afterEach(async () => {
    await fake.stop();
  });
  const activities = (extra: Record<string, string> = {}) =>
    buildVendorActivities(liveConfig({ shopify: fake.url }, extra)).shopify;

  it('issues a single-use code for the customer through `context`, derived from the key and the secret', async () => {
    const code = await activities().issueDiscountCode(sampleCodeInput());
    assert.equal(code.code, deriveDiscountCode(sampleCodeInput().key, SECRETS.discountSecret, 10));
    assert.match(code.code, /^BACK10-[0-9A-HJKMNP-TV-Z]{10}$/);
    assert.equal(fake.discounts.length, 1);
    const stored = fake.discounts[0]!;
    assert.equal(code.id, stored.id);
    assert.equal(code.expiresAt, sampleCodeInput().endsAt);
    assert.equal(stored.percentage, 0.1);
    assert.equal(stored.usageLimit, 1);
    assert.equal(stored.appliesOncePerCustomer, true);
    assert.deepEqual(stored.context, { customers: { add: ['gid://shopify/Customer/7001'] } });
    const [call] = fake.calls('discountCodeBasicCreate');
    assert.equal(call!.path, '/admin/api/2025-10/graphql.json');
  });

  it('a guest checkout gets a code any buyer can use once (context: all)', async () => {
    await activities().issueDiscountCode(sampleCodeInput({ customerId: null }));
    assert.deepEqual(fake.discounts[0]!.context, { all: 'ALL' });
  });

  it('the same business key twice yields one code: TAKEN is our own code, found by code', async () => {
    const acts = activities();
    const first = await acts.issueDiscountCode(sampleCodeInput());
    const second = await acts.issueDiscountCode(sampleCodeInput());
    assert.deepEqual(second, first);
    assert.equal(fake.discounts.length, 1);
    assert.equal(fake.calls('codeDiscountNodeByCode').length, 1);
  });

  it('TAKEN for a code that is no longer active is a refusal, never a dead code handed back', async () => {
    const acts = activities();
    const first = await acts.issueDiscountCode(sampleCodeInput());
    await acts.revokeDiscountCode({ key: 'k', shop: SHOP, id: first.id, code: first.code });
    await rejectsWithFailure(acts.issueDiscountCode(sampleCodeInput()), {
      type: FailureType.VendorRefused,
      nonRetryable: true,
    });
    assert.equal(fake.discounts.length, 1, 'no second code under the same key');
  });

  it('a retry after a lost answer finds the code the lost attempt created', async () => {
    fake.faults.add('discountCodeBasicCreate', { dropAfterHandling: true });
    const acts = activities();
    await rejectsWithFailure(acts.issueDiscountCode(sampleCodeInput()), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
    });
    assert.equal(fake.discounts.length, 1, 'Shopify created it, but the answer was lost');
    const retried = await acts.issueDiscountCode(sampleCodeInput());
    assert.equal(retried.id, fake.discounts[0]!.id);
    assert.equal(fake.discounts.length, 1);
  });

  it('THROTTLED asks for a retry after the time the bucket needs to refill', async () => {
    fake.faults.add('discountCodeBasicCreate', {
      throttled: { requestedQueryCost: 410, currentlyAvailable: 10, restoreRate: 50 },
    });
    await rejectsWithFailure(activities().issueDiscountCode(sampleCodeInput()), {
      type: RetryableFailureType.RateLimited,
      nonRetryable: false,
      nextRetryDelayMs: 8000,
    });
  });

  it('a 429 asks for a retry after Retry-After', async () => {
    fake.faults.add('nodes', { status: 429, retryAfter: '2.0' });
    await rejectsWithFailure(
      activities().lookupVariants({
        key: 'k',
        shop: SHOP,
        items: [{ key: 'l1', variantId: '11', productId: '1', quantity: 1 }],
      }),
      { type: RetryableFailureType.RateLimited, nonRetryable: false, nextRetryDelayMs: 2000 },
    );
  });

  it('a rejected token fails for good, naming SHOPIFY_ADMIN_ACCESS_TOKEN and never the token', async () => {
    const acts = buildVendorActivities(
      liveConfig({ shopify: fake.url }, { SHOPIFY_ADMIN_ACCESS_TOKEN: 'shpat_wrong000000000000000000000' }),
    ).shopify;
    const failure = await rejectsWithFailure(acts.issueDiscountCode(sampleCodeInput()), {
      type: FailureType.CredentialsRejected,
      nonRetryable: true,
      message: /SHOPIFY_ADMIN_ACCESS_TOKEN was rejected/,
    });
    assert.ok(!failure.message.includes('shpat_wrong'));
  });

  it('5xx is retryable with the normal backoff', async () => {
    fake.faults.add('discountCodeBasicCreate', { status: 502 });
    await rejectsWithFailure(activities().issueDiscountCode(sampleCodeInput()), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
      nextRetryDelayMs: null,
    });
  });

  it('a customer Shopify does not know is a typed refusal, not a retry', async () => {
    await rejectsWithFailure(activities().issueDiscountCode(sampleCodeInput({ customerId: '999' })), {
      type: FailureType.VendorRefused,
      nonRetryable: true,
      message: /customer is unknown to Shopify/,
    });
  });

  it('bad inputs are refused before any call, naming the field', async () => {
    const acts = activities();
    await rejectsWithFailure(acts.issueDiscountCode(sampleCodeInput({ percent: 0 })), {
      type: FailureType.VendorRefused,
      nonRetryable: true,
      message: /percent/,
    });
    await rejectsWithFailure(acts.issueDiscountCode(sampleCodeInput({ endsAt: '2020-01-01T00:00:00Z' })), {
      type: FailureType.VendorRefused,
      nonRetryable: true,
      message: /endsAt/,
    });
    assert.equal(fake.calls('discountCodeBasicCreate').length, 0);
  });

  it('revoking deactivates the code, and revoking again (a retry) or a deleted code is fine', async () => {
    const acts = activities();
    const code = await acts.issueDiscountCode(sampleCodeInput());
    await acts.revokeDiscountCode({ key: 'k', shop: SHOP, id: code.id, code: code.code });
    assert.equal(fake.discounts[0]!.deactivated, true);
    await acts.revokeDiscountCode({ key: 'k', shop: SHOP, id: code.id, code: code.code });
    await acts.revokeDiscountCode({
      key: 'k',
      shop: SHOP,
      id: 'gid://shopify/DiscountCodeNode/1',
      code: 'GONE',
    });
    assert.equal(fake.calls('discountCodeDeactivate').length, 3);
  });

  it('variant lookup gives images (variant, else product), product links and availability', async () => {
    fake.variants.set('gid://shopify/ProductVariant/11', {
      availableForSale: true,
      inventoryQuantity: 5,
      inventoryPolicy: 'DENY',
      tracked: true,
      imageUrl: 'https://cdn.example.com/v11.jpg',
      productImageUrl: 'https://cdn.example.com/p1.jpg',
      onlineStoreUrl: 'https://shop.example.com/products/shirt',
    });
    fake.variants.set('gid://shopify/ProductVariant/12', {
      availableForSale: true,
      inventoryQuantity: 1,
      inventoryPolicy: 'DENY',
      tracked: true,
      imageUrl: null,
      productImageUrl: 'https://cdn.example.com/p2.jpg',
      onlineStoreUrl: null,
    });
    const facts = await activities().lookupVariants({
      key: 'k',
      shop: SHOP,
      items: [
        { key: 'a', variantId: '11', productId: '1', quantity: 2 },
        { key: 'b', variantId: 'gid://shopify/ProductVariant/12', productId: '2', quantity: 3 },
        { key: 'c', variantId: '13', productId: '3', quantity: 1 },
        { key: 'd', variantId: null, productId: null, quantity: 1 },
      ],
    });
    assert.deepEqual(facts, [
      {
        lineKey: 'a',
        available: true,
        imageUrl: 'https://cdn.example.com/v11.jpg',
        productUrl: 'https://shop.example.com/products/shirt?variant=11',
      },
      // 3 wanted, 1 in stock, no overselling: not available as carted.
      { lineKey: 'b', available: false, imageUrl: 'https://cdn.example.com/p2.jpg', productUrl: null },
      // deleted variant
      { lineKey: 'c', available: false, imageUrl: null, productUrl: null },
      // custom line item
      { lineKey: 'd', available: true, imageUrl: null, productUrl: null },
    ]);
    assert.equal(fake.calls('nodes').length, 1, 'one query for the whole cart');
  });

  it('an API version Shopify does not serve is refused naming the settings to check', async () => {
    await rejectsWithFailure(
      activities({ SHOPIFY_API_VERSION: '2099-01' }).issueDiscountCode(sampleCodeInput()),
      {
        type: FailureType.VendorRefused,
        nonRetryable: true,
        message: /SHOPIFY_SHOP_DOMAIN and SHOPIFY_API_VERSION/,
      },
    );
  });
});

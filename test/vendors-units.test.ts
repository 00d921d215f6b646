import assert from 'node:assert/strict';
import { parseRetryAfter } from '../src/vendors/failures';
import { deriveDiscountCode, toGid } from '../src/vendors/shopify/discount-codes';
import { throttleDelayMs } from '../src/vendors/shopify/client';

describe('vendor building blocks', function () {
  it('discount codes are a stable function of key and secret (a change would mint second codes on retries across a deploy)', () => {
    const key = 'mystore.myshopify.com:c1a2b3:touch-2:code';
    assert.equal(deriveDiscountCode(key, 'secret-0123456789abcdef', 10), 'BACK10-HAXYHJB4K9');
    assert.equal(
      deriveDiscountCode(key, 'secret-0123456789abcdef', 10),
      deriveDiscountCode(key, 'secret-0123456789abcdef', 10),
    );
    assert.notEqual(
      deriveDiscountCode(key, 'another-secret-0123456789', 10),
      deriveDiscountCode(key, 'secret-0123456789abcdef', 10),
    );
    assert.notEqual(
      deriveDiscountCode(`${key}x`, 'secret-0123456789abcdef', 10),
      deriveDiscountCode(key, 'secret-0123456789abcdef', 10),
    );
  });

  it('Retry-After in seconds or as an HTTP date, clamped to 1 s .. 15 min', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('2.5', now), 2500);
    assert.equal(parseRetryAfter('0', now), 1000);
    assert.equal(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('86400', now), 15 * 60_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('THROTTLED waits for the missing points at the restore rate', () => {
    const answer = (requested: number, available: number, rate: number) => ({
      extensions: {
        cost: {
          requestedQueryCost: requested,
          throttleStatus: { currentlyAvailable: available, restoreRate: rate },
        },
      },
    });
    assert.equal(throttleDelayMs(answer(410, 10, 50)), 8000);
    assert.equal(throttleDelayMs(answer(10, 9, 100)), 1000, 'at least a second');
    assert.equal(throttleDelayMs({}), undefined);
  });

  it('Shopify ids: numeric ids become gids, anything else is refused', () => {
    assert.equal(toGid('Customer', '42'), 'gid://shopify/Customer/42');
    assert.equal(toGid('ProductVariant', 'gid://shopify/ProductVariant/7'), 'gid://shopify/ProductVariant/7');
    assert.equal(toGid('Customer', 'gid://shopify/ProductVariant/7'), undefined);
    assert.equal(toGid('Customer', 'abc'), undefined);
  });
});

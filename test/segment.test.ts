import assert from 'node:assert/strict';
import { controlBucket, decideSegment, inControlGroup, type SegmentFacts } from '../src/workflows/segment';
import { emailBlockedBy, type ConsentInputs } from '../src/workflows/eligibility';
import { inQuietHours, localTime, nextSendableTime } from '../src/workflows/schedule';
import { customerKey } from '../src/workflows/keys';
import type { Segment } from '../src/workflows/policy';

const thresholds = { USD: '200', EUR: '180', JPY: '30000' };

describe('segment decision (pure, table-driven)', function () {
  const rows: [string, SegmentFacts, Segment][] = [
    [
      'new customer, small cart',
      { cartValue: '59.90', currency: 'USD', vip: false, ordersCount: 0 },
      'welcome',
    ],
    [
      'returning customer, small cart',
      { cartValue: '59.90', currency: 'USD', vip: false, ordersCount: 2 },
      'loyalty',
    ],
    [
      'cart exactly at the threshold',
      { cartValue: '200.00', currency: 'USD', vip: false, ordersCount: 0 },
      'premium',
    ],
    [
      'one cent below the threshold',
      { cartValue: '199.99', currency: 'USD', vip: false, ordersCount: 5 },
      'loyalty',
    ],
    ['VIP with a small cart', { cartValue: '10', currency: 'USD', vip: true, ordersCount: 0 }, 'premium'],
    [
      'threshold of its own currency',
      { cartValue: '185.00', currency: 'EUR', vip: false, ordersCount: 0 },
      'premium',
    ],
    ['200 JPY is not 200 USD', { cartValue: '200', currency: 'JPY', vip: false, ordersCount: 0 }, 'welcome'],
    [
      'currency without a threshold',
      { cartValue: '99999.00', currency: 'CHF', vip: false, ordersCount: 1 },
      'loyalty',
    ],
    [
      'three decimals compared exactly',
      { cartValue: '199.999', currency: 'USD', vip: false, ordersCount: 0 },
      'welcome',
    ],
  ];
  for (const [name, facts, expected] of rows) {
    it(`${name}: ${expected}`, function () {
      assert.equal(decideSegment(facts, thresholds), expected);
    });
  }
});

describe('control group (deterministic from the checkout)', function () {
  it('puts the same checkout in the same bucket every time', function () {
    assert.equal(controlBucket('shop.myshopify.com', 'abc'), controlBucket('shop.myshopify.com', 'abc'));
    assert.equal(inControlGroup('shop.myshopify.com', 'abc', 0), false);
    assert.equal(inControlGroup('shop.myshopify.com', 'abc', 100), true);
  });

  it('holds out about the configured share of many checkouts', function () {
    let held = 0;
    for (let i = 0; i < 10_000; i++) if (inControlGroup('shop.myshopify.com', `token-${i}`, 10)) held++;
    assert.ok(held > 900 && held < 1100, `10 % of 10,000 checkouts, got ${held}`);
  });
});

describe('customer key of the frequency cap', function () {
  it('is the same for one email in any case and hides the address', function () {
    assert.equal(customerKey(' Ada@Example.com '), customerKey('ada@example.com'));
    assert.notEqual(customerKey('ada@example.com'), customerKey('bob@example.com'));
    assert.match(customerKey('ada@example.com'), /^[0-9a-f]{16}$/);
  });
});

describe('consent rules', function () {
  const base: ConsentInputs = {
    acceptsMarketing: false,
    checkoutUpdatedAt: '2026-11-01T10:00:00Z',
    latestConsent: null,
    facts: { consent: 'NEVER_SUBSCRIBED', suppressed: false },
    requireMarketingConsent: true,
  };
  const consent = (state: 'subscribed' | 'unsubscribed' | 'not_subscribed', at: string) => ({
    customerId: '1',
    email: null,
    state,
    at,
  });
  const rows: [string, Partial<ConsentInputs>, ReturnType<typeof emailBlockedBy>][] = [
    ['no opt-in anywhere', {}, 'no_consent'],
    ['checkout opt-in', { acceptsMarketing: true }, null],
    ['Klaviyo SUBSCRIBED', { facts: { consent: 'SUBSCRIBED', suppressed: false } }, null],
    [
      'suppressed beats every opt-in',
      { acceptsMarketing: true, facts: { consent: 'SUBSCRIBED', suppressed: true } },
      'suppressed',
    ],
    [
      'Klaviyo UNSUBSCRIBED beats the checkout opt-in',
      { acceptsMarketing: true, facts: { consent: 'UNSUBSCRIBED', suppressed: false } },
      'no_consent',
    ],
    [
      'a later webhook unsubscribes',
      { acceptsMarketing: true, latestConsent: consent('unsubscribed', '2026-11-01T11:00:00Z') },
      'no_consent',
    ],
    ['a webhook subscribes', { latestConsent: consent('subscribed', '2026-11-01T11:00:00Z') }, null],
    [
      'opt-in newer than a not-subscribed webhook',
      { acceptsMarketing: true, latestConsent: consent('not_subscribed', '2026-11-01T09:00:00Z') },
      null,
    ],
    [
      'not-subscribed webhook newer than the opt-in',
      { acceptsMarketing: true, latestConsent: consent('not_subscribed', '2026-11-01T11:00:00Z') },
      'no_consent',
    ],
    ['transactional mode needs no opt-in', { requireMarketingConsent: false }, null],
    [
      'transactional mode still honours an unsubscribe',
      { requireMarketingConsent: false, latestConsent: consent('unsubscribed', '2026-11-01T11:00:00Z') },
      'no_consent',
    ],
    [
      'transactional mode never emails a suppressed profile',
      { requireMarketingConsent: false, facts: { consent: 'NEVER_SUBSCRIBED', suppressed: true } },
      'suppressed',
    ],
  ];
  for (const [name, over, expected] of rows) {
    it(`${name}: ${expected ?? 'may email'}`, function () {
      assert.equal(emailBlockedBy({ ...base, ...over }), expected);
    });
  }
});

describe('quiet hours', function () {
  const quiet = { startHour: 21, endHour: 8 };
  const at = (iso: string) => Date.parse(iso);

  it('knows which hours are quiet, across midnight or not, and "off"', function () {
    assert.deepEqual(
      [20, 21, 23, 0, 7, 8].map((h) => inQuietHours(h, quiet)),
      [false, true, true, true, true, false],
    );
    assert.equal(inQuietHours(13, { startHour: 12, endHour: 14 }), true);
    assert.equal(inQuietHours(3, { startHour: 0, endHour: 0 }), false);
  });

  it('leaves an allowed time as it is', function () {
    assert.equal(
      nextSendableTime(at('2026-11-25T15:00:00Z'), 'Europe/Paris', quiet),
      at('2026-11-25T15:00:00Z'),
    );
  });

  it('moves a late-evening touch to 08:00 the next local day', function () {
    // 23:30 in Paris (UTC+1 in November) -> 08:00 Paris = 07:00 UTC next day.
    assert.equal(
      nextSendableTime(at('2026-11-25T22:30:00Z'), 'Europe/Paris', quiet),
      at('2026-11-26T07:00:00Z'),
    );
  });

  it('moves an early-morning touch to 08:00 the same local day', function () {
    // 03:00 in New York (UTC-5) -> 08:00 New York = 13:00 UTC.
    assert.equal(
      nextSendableTime(at('2026-11-25T08:00:00Z'), 'America/New_York', quiet),
      at('2026-11-25T13:00:00Z'),
    );
  });

  it('lands on 08:00 local across a daylight-saving change', function () {
    // The night of 28-29 March 2026 Paris moves from UTC+1 to UTC+2; 08:00 on the 29th is 06:00 UTC.
    const moved = nextSendableTime(at('2026-03-28T22:30:00Z'), 'Europe/Paris', quiet);
    assert.equal(moved, at('2026-03-29T06:00:00Z'));
    assert.equal(localTime(moved, 'Europe/Paris').hour, 8);
  });
});

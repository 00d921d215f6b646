import assert from 'node:assert/strict';
import { FailureType } from '../src/workflows/contracts';
import { buildVendorActivities } from '../src/activities/vendors';
import { RetryableFailureType } from '../src/vendors/failures';
import { FakeKlaviyo } from './fakes/klaviyo';
import { SECRETS, liveConfig, rejectsWithFailure } from './fakes/vendor-env';
import { SHOP, sampleEmail } from './fakes/samples';

describe('Klaviyo activities against the fake Klaviyo (real klaviyo-api SDK client)', function () {
  let fake: FakeKlaviyo;
  beforeEach(async () => {
    fake = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
  });
  afterEach(async () => {
    await fake.stop();
  });
  const activities = (extra: Record<string, string> = {}) =>
    buildVendorActivities(liveConfig({ klaviyo: fake.url }, extra)).klaviyo;

  it('enrichment reads predictive analytics, consent and suppressions of a known customer', async () => {
    fake.addProfile({
      id: 'P1',
      email: 'loyal@example.com',
      timezone: 'Europe/Paris',
      lastEventDate: new Date(Date.now() - 5 * 86_400_000).toISOString(),
      predictive: {
        historic_clv: 812.4,
        predicted_clv: 300,
        historic_number_of_orders: 6,
        average_order_value: 135.4,
        churn_probability: 0.21,
      },
      consent: 'SUBSCRIBED',
    });
    const facts = await activities().enrichCustomer({
      key: `${SHOP}:t:enrich`,
      shop: SHOP,
      email: 'Loyal@Example.com ',
    });
    assert.deepEqual(facts, {
      known: true,
      ordersCount: 6,
      lifetimeValue: '812.40',
      predictedLifetimeValue: '300.00',
      averageOrderValue: '135.40',
      churnProbability: 0.21,
      currency: 'USD',
      vip: false,
      engagement: 'engaged',
      consent: 'SUBSCRIBED',
      suppressed: false,
      suppressionReasons: [],
      timezone: 'Europe/Paris',
    });
    const [call] = fake.calls('getProfiles');
    assert.match(call!.headers.revision ?? '', /^\d{4}-\d{2}-\d{2}/);
    assert.match(
      decodeURIComponent(call!.url),
      /additional-fields\[profile\]=predictive_analytics,subscriptions/,
    );
    assert.match(decodeURIComponent(call!.url), /filter=equals\(email,"loyal@example.com"\)/);
  });

  it('a customer unknown to Klaviyo is a new customer, not an error', async () => {
    const facts = await activities().enrichCustomer({ key: 'k', shop: SHOP, email: 'stranger@example.com' });
    assert.equal(facts.known, false);
    assert.equal(facts.ordersCount, 0);
    assert.equal(facts.vip, false);
    assert.equal(facts.consent, 'UNKNOWN');
  });

  it('VIP by the CLV threshold or by membership of the VIP segment; suppressions are reported', async () => {
    fake.addProfile({
      id: 'P2',
      email: 'big@example.com',
      predictive: { historic_clv: 2500, historic_number_of_orders: 9 },
      consent: 'SUBSCRIBED',
    });
    fake.addProfile({
      id: 'P3',
      email: 'member@example.com',
      predictive: { historic_clv: 40, historic_number_of_orders: 1 },
      segments: ['VIPSEG'],
      consent: 'UNSUBSCRIBED',
      suppression: [{ reason: 'HARD_BOUNCE', timestamp: '2026-01-01T00:00:00Z' }],
    });
    const acts = activities({ KLAVIYO_VIP_CLV_THRESHOLD: '1000', KLAVIYO_VIP_SEGMENT_ID: 'VIPSEG' });
    assert.equal((await acts.enrichCustomer({ key: 'k', shop: SHOP, email: 'big@example.com' })).vip, true);
    const member = await acts.enrichCustomer({ key: 'k', shop: SHOP, email: 'member@example.com' });
    assert.equal(member.vip, true);
    assert.equal(member.suppressed, true);
    assert.deepEqual(member.suppressionReasons, ['HARD_BOUNCE']);
    assert.equal(member.consent, 'UNSUBSCRIBED');
  });

  it('the recovery email is one event of the recovery metric, carrying every template property', async () => {
    const { messageId } = await activities().sendRecoveryEmail(sampleEmail());
    assert.match(messageId, /Cart Recovery Touch/);
    assert.equal(fake.events.length, 1);
    const event = fake.events[0]!;
    assert.equal(event.metric, 'Cart Recovery Touch');
    assert.equal(event.uniqueId, sampleEmail().key);
    assert.equal(event.value, 98.99);
    assert.equal(event.valueCurrency, 'USD');
    const p = event.properties;
    assert.equal(p.restore_url, sampleEmail().restoreUrl);
    assert.equal(p.discount_code, 'BACK10-ABCDEFGHJK');
    assert.equal(p.discount_percent, 10);
    assert.equal(p.total_formatted, '$98.99');
    assert.equal(p.segment, 'welcome');
    assert.equal(p.touch, 2);
    assert.equal(p.subject, 'Your cart misses you');
    assert.deepEqual((p.items as Record<string, unknown>[])[0], {
      title: 'Linen Shirt',
      variant_title: 'M / Blue',
      quantity: 2,
      price: '39.50',
      price_formatted: '$39.50',
      line_price: '79.00',
      line_price_formatted: '$79.00',
      image_url: 'https://cdn.example.com/shirt.jpg',
      product_url: 'https://shop.example.com/products/linen-shirt?variant=11',
    });
  });

  it('the same business key twice yields one event', async () => {
    const acts = activities();
    await acts.sendRecoveryEmail(sampleEmail());
    await acts.sendRecoveryEmail(sampleEmail());
    assert.equal(fake.calls('createEvent').length, 2);
    assert.equal(fake.events.length, 1);
  });

  it('429 asks for a retry after the Retry-After delay', async () => {
    fake.faults.add('createEvent', { status: 429, retryAfter: '7' });
    await rejectsWithFailure(activities().sendRecoveryEmail(sampleEmail()), {
      type: RetryableFailureType.RateLimited,
      nonRetryable: false,
      nextRetryDelayMs: 7000,
    });
    assert.equal(fake.calls('createEvent').length, 1, 'the SDK must not retry on its own');
  });

  it('5xx and timeouts are retryable with the normal backoff', async () => {
    fake.faults.add('createEvent', { status: 503 });
    const acts = activities({ VENDOR_HTTP_TIMEOUT: '300ms' });
    await rejectsWithFailure(acts.sendRecoveryEmail(sampleEmail()), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
      nextRetryDelayMs: null,
    });
    fake.faults.add('getProfiles', { delayMs: 1000 });
    await rejectsWithFailure(acts.enrichCustomer({ key: 'k', shop: SHOP, email: 'a@example.com' }), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
      message: /timed out/,
    });
  });

  it('a rejected key fails for good, naming KLAVIYO_PRIVATE_API_KEY and never the key', async () => {
    const acts = buildVendorActivities(
      liveConfig({ klaviyo: fake.url }, { KLAVIYO_PRIVATE_API_KEY: 'pk_wrongkey0123456789abcdef0123' }),
    ).klaviyo;
    const failure = await rejectsWithFailure(acts.sendRecoveryEmail(sampleEmail()), {
      type: FailureType.CredentialsRejected,
      nonRetryable: true,
      message: /KLAVIYO_PRIVATE_API_KEY was rejected/,
    });
    assert.ok(!failure.message.includes('pk_wrongkey'));
  });

  it('a missing scope (403) names the credential and the scopes it needs', async () => {
    fake.missingScopes.add('accounts:read');
    fake.addProfile({ id: 'P4', email: 'c@example.com', predictive: { historic_clv: 1 } });
    await rejectsWithFailure(activities().enrichCustomer({ key: 'k', shop: SHOP, email: 'c@example.com' }), {
      type: FailureType.CredentialsRejected,
      nonRetryable: true,
      message: /KLAVIYO_PRIVATE_API_KEY .*accounts:read/,
    });
  });

  it('an email Klaviyo refuses is InvalidRecipient; a malformed one is refused before any call', async () => {
    const acts = activities();
    await rejectsWithFailure(acts.sendRecoveryEmail(sampleEmail({ email: 'someone@example.c' })), {
      type: FailureType.InvalidRecipient,
      nonRetryable: true,
    });
    assert.equal(fake.calls('createEvent').length, 1);
    await rejectsWithFailure(acts.sendRecoveryEmail(sampleEmail({ email: 'not an email' })), {
      type: FailureType.InvalidRecipient,
      nonRetryable: true,
    });
    assert.equal(fake.calls('createEvent').length, 1);
  });

  it('a payload the workflow should never build is VendorRefused, naming the field', async () => {
    await rejectsWithFailure(activities().sendRecoveryEmail(sampleEmail({ items: [] })), {
      type: FailureType.VendorRefused,
      nonRetryable: true,
      message: /items: expected at least one line item/,
    });
  });
});

import assert from 'node:assert/strict';
import { FailureType } from '../src/workflows/contracts';
import { buildVendorActivities } from '../src/activities/vendors';
import { ticketExternalId } from '../src/activities/gorgias';
import { RetryableFailureType } from '../src/vendors/failures';
import { FakeGorgias } from './fakes/gorgias';
import { SECRETS, liveConfig, rejectsWithFailure } from './fakes/vendor-env';
import { sampleTicket } from './fakes/samples';

describe('Gorgias activity against the fake Gorgias API (real axios client)', function () {
  let fake: FakeGorgias;
  beforeEach(async () => {
    fake = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
  });
  afterEach(async () => {
    await fake.stop();
  });
  const activities = (extra: Record<string, string> = {}) =>
    buildVendorActivities(liveConfig({ gorgias: fake.url }, extra)).gorgias;

  it('creates a ticket with the customer, items, value, restore link, segment and tags', async () => {
    const { ticketId } = await activities().createSupportTicket(sampleTicket());
    assert.equal(fake.tickets.length, 1);
    const ticket = fake.tickets[0]!;
    assert.equal(ticketId, String(ticket.id));
    assert.equal(ticket.external_id, sampleTicket().key);
    assert.deepEqual(ticket.customer, { email: 'grace@example.com', name: 'Grace Hopper' });
    assert.match(ticket.subject, /\$450\.00.*premium/);
    assert.deepEqual(
      ticket.tags.map((t) => t.name),
      ['cart-recovery', 'abandoned-cart', 'segment-premium'],
    );
    const body = String(ticket.messages[0]!.body_text);
    assert.match(body, /1 x Cashmere Coat \(L\): \$450\.00/);
    assert.match(body, /checkouts\/tok-123\/recover/);
    assert.equal(ticket.meta.segment, 'premium');
    assert.equal(fake.calls('listTickets').length, 1, 'looked up by external_id before creating');
  });

  it('the same business key twice yields one ticket, and the same id', async () => {
    const acts = activities();
    const first = await acts.createSupportTicket(sampleTicket());
    const second = await acts.createSupportTicket(sampleTicket());
    assert.deepEqual(second, first);
    assert.equal(fake.tickets.length, 1);
    assert.equal(fake.calls('createTicket').length, 1);
  });

  it('a key longer than external_id allows is hashed, still one ticket per key', async () => {
    const key = `${'x'.repeat(300)}:ticket`;
    const acts = activities();
    await acts.createSupportTicket(sampleTicket({ key }));
    await acts.createSupportTicket(sampleTicket({ key }));
    assert.equal(fake.tickets.length, 1);
    assert.equal(fake.tickets[0]!.external_id, ticketExternalId(key));
    assert.ok(ticketExternalId(key).length <= 255);
  });

  it('429 asks for a retry after the Retry-after delay', async () => {
    fake.faults.add('listTickets', { status: 429, retryAfter: '12' });
    await rejectsWithFailure(activities().createSupportTicket(sampleTicket()), {
      type: RetryableFailureType.RateLimited,
      nonRetryable: false,
      nextRetryDelayMs: 12_000,
    });
  });

  it('5xx and slow answers are retryable with the normal backoff', async () => {
    const acts = activities({ VENDOR_HTTP_TIMEOUT: '300ms' });
    fake.faults.add('createTicket', { status: 500 });
    await rejectsWithFailure(acts.createSupportTicket(sampleTicket()), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
      nextRetryDelayMs: null,
    });
    fake.faults.add('listTickets', { delayMs: 1000 });
    await rejectsWithFailure(acts.createSupportTicket(sampleTicket()), {
      type: RetryableFailureType.Unavailable,
      nonRetryable: false,
      message: /timed out/,
    });
  });

  it('rejected credentials fail for good, naming GORGIAS_USERNAME / GORGIAS_API_KEY and never the key', async () => {
    const acts = buildVendorActivities(
      liveConfig({ gorgias: fake.url }, { GORGIAS_API_KEY: 'wrong-key-000000' }),
    ).gorgias;
    const failure = await rejectsWithFailure(acts.createSupportTicket(sampleTicket()), {
      type: FailureType.CredentialsRejected,
      nonRetryable: true,
      message: /GORGIAS_USERNAME \/ GORGIAS_API_KEY was rejected/,
    });
    assert.ok(!failure.message.includes('wrong-key'));
  });

  it('an email Gorgias refuses is InvalidRecipient', async () => {
    const ticket = sampleTicket();
    ticket.checkout.email = 'grace@example.c';
    await rejectsWithFailure(activities().createSupportTicket(ticket), {
      type: FailureType.InvalidRecipient,
      nonRetryable: true,
      message: /customer email/,
    });
  });
});

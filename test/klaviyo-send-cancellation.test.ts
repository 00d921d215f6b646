/**
 * Stop on order, at the activity's end: a send cancelled by the workflow (an order arrived) while
 * it is running must not record the Klaviyo event, because the event is what mails the customer.
 */
import assert from 'node:assert/strict';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createKlaviyoActivities } from '../src/activities/klaviyo';
import type { RecoveryEmail } from '../src/workflows/contracts';
import type { KlaviyoClient, KlaviyoEvent } from '../src/vendors/klaviyo/client';

const email: RecoveryEmail = {
  key: 'shop.myshopify.com:tok:touch-2:send',
  shop: 'shop.myshopify.com',
  checkoutToken: 'tok',
  email: 'shopper@example.com',
  firstName: 'Ada',
  touch: 2,
  totalTouches: 4,
  segment: 'welcome',
  subject: 'Still thinking it over?',
  preheader: 'Your cart is waiting',
  items: [
    { title: 'Mug', variantTitle: null, quantity: 1, price: '12.00', imageUrl: null, productUrl: null },
  ],
  total: '12.00',
  currency: 'USD',
  restoreUrl: 'https://shop.example.com/checkouts/tok/recover',
  discount: null,
};

function recordingClient(events: KlaviyoEvent[]): KlaviyoClient {
  return {
    findProfileByEmail: () => Promise.resolve(null),
    isProfileInSegment: () => Promise.resolve(false),
    accountCurrency: () => Promise.resolve(null),
    createEvent: (event) => {
      events.push(event);
      return Promise.resolve({ reference: event.uniqueId });
    },
  };
}

describe('Klaviyo send and cancellation', () => {
  const activities = (events: KlaviyoEvent[]) =>
    createKlaviyoActivities({
      client: recordingClient(events),
      recoveryMetric: 'Cart Recovery Touch',
      vipClvThreshold: null,
      vipSegmentId: null,
      locale: 'en-US',
    });

  it('records no event when the workflow cancels the send before its point of no return', async () => {
    const events: KlaviyoEvent[] = [];
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => {
      heartbeats += 1;
      // The order arrived: the workflow cancels the running send.
      env.cancel('CANCELLED');
    });
    await assert.rejects(
      env.run(() => activities(events).sendRecoveryEmail(email)),
      (err: unknown) => err instanceof CancelledFailure,
    );
    assert.equal(heartbeats, 1, 'the send asks once before recording the event');
    assert.deepEqual(events, []);
  });

  it('records the event, keyed by the business key, when nobody cancels', async () => {
    const events: KlaviyoEvent[] = [];
    const send = () => activities(events).sendRecoveryEmail(email);
    const result = await new MockActivityEnvironment().run<[], { messageId: string }, typeof send>(send);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.uniqueId, email.key);
    assert.equal(result.messageId, email.key);
  });
});

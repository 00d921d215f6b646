/**
 * Vendor failures through a real Temporal worker (the time-skipping test server): a rate-limit
 * answer makes Temporal wait the delay the vendor asked for before the next attempt, a lost
 * answer is retried into the same vendor-side object, and a rejected credential is not retried.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { buildVendorActivities } from '../src/activities/vendors';
import { FailureType } from '../src/workflows/contracts';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './helpers/temporal';
import { FakeKlaviyo } from './fakes/klaviyo';
import { FakeShopify } from './fakes/shopify';
import { FakeGorgias } from './fakes/gorgias';
import { SECRETS, assertNoSecret, liveConfig } from './fakes/vendor-env';
import { sampleCodeInput, sampleEmail, sampleTicket } from './fakes/samples';
import type { VendorCall } from './workflows/vendor-call';

/**
 * The activity's retry waited (about) `expectedMs` of workflow time: not less (the vendor's delay
 * was honoured), and not much more. The time-skipping server skips the wait itself, so the
 * test takes milliseconds; without the vendor's delay the retry would come after 1 s.
 */
function assertWaited(elapsedMs: number, expectedMs: number) {
  assert.ok(
    elapsedMs >= expectedMs && elapsedMs < expectedMs + 1_500,
    `the retry came ${elapsedMs} ms of workflow time after the first attempt, expected ${expectedMs} ms`,
  );
}

describe('vendor retries through a real Temporal worker', function () {
  let env: TestWorkflowEnvironment;
  let klaviyo: FakeKlaviyo;
  let shopify: FakeShopify;
  let gorgias: FakeGorgias;

  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });
  beforeEach(async () => {
    klaviyo = await new FakeKlaviyo(SECRETS.klaviyoKey).start();
    shopify = await new FakeShopify(SECRETS.shopifyToken).start();
    shopify.customers.add('gid://shopify/Customer/7001');
    gorgias = await new FakeGorgias(SECRETS.gorgiasUser, SECRETS.gorgiasKey).start();
  });
  afterEach(async () => {
    await Promise.all([klaviyo.stop(), shopify.stop(), gorgias.stop()]);
  });

  async function run(title: string, call: VendorCall, extra: Record<string, string> = {}) {
    const vendors = buildVendorActivities(
      liveConfig({ klaviyo: klaviyo.url, shopify: shopify.url, gorgias: gorgias.url }, extra),
    );
    const taskQueue = uniqueId(title);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows/vendor-call')),
      activities: { ...vendors.klaviyo, ...vendors.shopify, ...vendors.gorgias },
    });
    const workflowId = uniqueId(title);
    const outcome = await worker.runUntil(
      env.client.workflow.execute('callVendorActivity', { taskQueue, workflowId, args: [call] }).then(
        (value) => ({ value: value as { result: unknown; elapsedMs: number } }),
        (error: unknown) => ({ error }),
      ),
    );
    return outcome;
  }

  async function runOk(title: string, call: VendorCall) {
    const outcome = await run(title, call);
    if (!('value' in outcome)) throw outcome.error;
    return outcome;
  }

  it('Klaviyo 429: the next attempt starts after Retry-After, and the email is recorded once', async function () {
    klaviyo.faults.add('createEvent', { status: 429, retryAfter: '30' });
    const { value } = await runOk(this.test!.title, {
      activity: 'sendRecoveryEmail',
      args: [sampleEmail()],
      maximumAttempts: 5,
    });
    assert.ok(value, 'the activity succeeded on retry');
    assertWaited(value.elapsedMs, 30_000);
    assert.equal(klaviyo.calls('createEvent').length, 2);
    assert.equal(klaviyo.events.length, 1);
  });

  it('Shopify THROTTLED: the retry waits for the bucket to refill, and one code exists', async function () {
    shopify.faults.add('discountCodeBasicCreate', {
      throttled: { requestedQueryCost: 410, currentlyAvailable: 10, restoreRate: 50 },
    });
    const { value } = await runOk(this.test!.title, {
      activity: 'issueDiscountCode',
      args: [sampleCodeInput()],
      maximumAttempts: 5,
    });
    assert.ok(value);
    assertWaited(value.elapsedMs, 8_000);
    assert.equal(shopify.discounts.length, 1);
  });

  it('Shopify lost answer: the retried attempt returns the code the lost one created', async function () {
    shopify.faults.add('discountCodeBasicCreate', { dropAfterHandling: true });
    const { value } = await runOk(this.test!.title, {
      activity: 'issueDiscountCode',
      args: [sampleCodeInput()],
      maximumAttempts: 5,
    });
    assert.ok(value);
    // A broken connection takes the normal backoff (the workflow's 1 s initial interval).
    assertWaited(value.elapsedMs, 1_000);
    assert.equal(shopify.discounts.length, 1);
    assert.equal((value.result as { id: string }).id, shopify.discounts[0]!.id);
  });

  it('Gorgias 429: the next attempt starts after Retry-after, and one ticket exists', async function () {
    gorgias.faults.add('createTicket', { status: 429, retryAfter: '12' });
    const { value } = await runOk(this.test!.title, {
      activity: 'createSupportTicket',
      args: [sampleTicket()],
      maximumAttempts: 5,
    });
    assert.ok(value);
    assertWaited(value.elapsedMs, 12_000);
    assert.equal(gorgias.tickets.length, 1);
  });

  it('a rejected credential is not retried: one attempt, a typed non-retryable failure', async function () {
    const { error } = (await run(
      this.test!.title,
      { activity: 'createSupportTicket', args: [sampleTicket()], maximumAttempts: 5 },
      { GORGIAS_API_KEY: 'wrong-key-000000' },
    )) as { error?: unknown };
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ActivityFailure);
    const cause = error.cause.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, FailureType.CredentialsRejected);
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /GORGIAS_USERNAME \/ GORGIAS_API_KEY/);
    assertNoSecret(cause);
    assert.equal(gorgias.calls('listTickets').length, 1);
  });
});

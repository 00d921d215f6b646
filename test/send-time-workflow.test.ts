/**
 * The send-time rules on the real time-skipping server with a real worker: an overdue sequence
 * after a worker outage, and a vendor outage that runs into quiet hours (docs/workflow.md,
 * Send-time rules).
 */
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  createTimeSkippingEnv,
  runThenEndWorkflows,
  uniqueId,
  until,
  workflowBundle,
} from './helpers/temporal';
import {
  FakeVendors,
  HOUR,
  TEST_POLICY,
  blockUntilCancelled,
  cartRig,
  cartWorker,
  deferred,
  registerSearchAttributes,
  snapshot,
  type CartRig,
} from './helpers/cart';
import { checkoutDeletedSignal, consentChangedSignal, type TouchRecord } from '../src/workflows/messages';
import { localTime } from '../src/workflows/schedule';
import type { RecoveryPolicy } from '../src/workflows/policy';
import { ensureTemporalBinary } from '../src/temporal/binaries';
import { minTouchGapMs } from '../src/workflows/cart-recovery/send-time';

const MINUTE = 60_000;

/** Sleeps (server time) until the next `hour`:00 UTC. */
async function sleepUntilUtcHour(rig: CartRig, hour: number): Promise<number> {
  const now = await rig.now();
  let skip = MINUTE;
  while (localTime(now + skip, 'UTC').hour !== hour || localTime(now + skip, 'UTC').minute !== 0)
    skip += MINUTE;
  await rig.env.sleep(skip);
  return rig.now();
}

const emailed = (touches: TouchRecord[]) => touches.filter((t) => !t.skipped);

function assertGaps(touches: TouchRecord[], gapMs: number): void {
  const sent = emailed(touches).map((t) => Date.parse(t.sentAt));
  for (let i = 1; i < sent.length; i += 1) {
    assert.ok(
      sent[i]! - sent[i - 1]! >= gapMs,
      `emails ${i} and ${i + 1} only ${(sent[i]! - sent[i - 1]!) / MINUTE} min apart: ${JSON.stringify(touches)}`,
    );
  }
}

describe('send-time rules on the real server', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    env = await createTimeSkippingEnv();
    await registerSearchAttributes(env);
    bundle = await workflowBundle(require.resolve('../src/workflows'));
  });
  after(async () => {
    await env?.teardown();
  });

  it('an unsubscribe while touch 2 is being sent cancels the send: no email after the withdrawal', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const touch2Started = deferred();
    vendors.beforeSend = async (email) => {
      if (email.touch === 2) await blockUntilCancelled(() => touch2Started.resolve());
    };
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('u1', snapshot('u1', t0));
      await env.sleep(6 * HOUR);
      await touch2Started.promise;
      await rig.send('u1', consentChangedSignal, {
        customerId: 'gid://shopify/Customer/7',
        email: null,
        state: 'unsubscribed',
        at: new Date(t0 + 6 * HOUR).toISOString(),
      });
      await until(async () => (await rig.status('u1')).outcome !== null, 'the outcome');
      const status = await rig.status('u1');
      assert.equal(status.outcome, 'consent_withdrawn');
      assert.deepEqual(
        status.touches.map((t) => t.touch),
        [1],
        'touch 2 is not recorded as sent',
      );
      assert.deepEqual(
        vendors.sentTouches('u1').map((e) => e.touch),
        [1],
        'the vendor never accepted touch 2',
      );
    });
  });

  it('a changed checkout email is enriched and gated on its own: a suppressed new address gets nothing', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    vendors.factsByEmail['bounced@example.com'] = { suppressed: true, suppressionReasons: ['HARD_BOUNCE'] };
    const rig = cartRig(env, q, vendors);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      const t0 = await rig.now();
      await rig.update('a1', snapshot('a1', t0));
      await env.sleep(2 * HOUR);
      assert.deepEqual(
        vendors.sentTouches('a1').map((e) => e.email),
        ['ada@example.com'],
      );
      // The shopper comes back and types another address (suppressed in Klaviyo).
      await rig.update('a1', snapshot('a1', t0 + 2 * HOUR, { email: 'bounced@example.com' }));
      await env.sleep(8 * HOUR);
      const status = await rig.status('a1');
      assert.deepEqual(
        vendors.sentTouches('a1').map((e) => e.email),
        ['ada@example.com'],
        `nothing went to the suppressed address: ${JSON.stringify(status.touches)}`,
      );
      assert.equal(status.outcome, 'consent_withdrawn');
      assert.equal(vendors.enrichCalls.length, 2, 'the new address was enriched');
    });
  });

  it('a Klaviyo outage that runs into quiet hours sends nothing at night and keeps the gap', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    let down = false;
    vendors.beforeSend = () =>
      down ? Promise.reject(new Error('Klaviyo answered 503 Service Unavailable')) : Promise.resolve();
    const policy = { ...TEST_POLICY, quietHours: { startHour: 21, endHour: 8 }, shopTimezone: 'UTC' };
    const rig = cartRig(env, q, vendors, policy);
    const worker = await cartWorker(env, q, vendors, bundle);
    await runThenEndWorkflows(env, worker, async () => {
      // Abandoned at 12:00 UTC: touch 1 at 13:00, touch 2 due at 18:00, touch 3 at 12:00 next day.
      const t0 = await sleepUntilUtcHour(rig, 12);
      await rig.update('n1', snapshot('n1', t0));
      await env.sleep(5 * HOUR);
      assert.equal((await rig.status('n1')).touches.length, 1);
      down = true; // 17:00 to 23:00
      await env.sleep(6 * HOUR);
      down = false;
      await env.sleep(8 * HOUR); // 07:00 next day
      assert.equal(
        emailed((await rig.status('n1')).touches).length,
        1,
        'Klaviyo back at 23:00: still no email before 08:00',
      );
      await env.sleep(6 * HOUR); // 13:00
      const status = await rig.status('n1');
      const sent = emailed(status.touches);
      assert.ok(sent.length >= 2, `touch 2 went out in the morning: ${JSON.stringify(status.touches)}`);
      for (const touch of sent) {
        const hour = localTime(Date.parse(touch.sentAt), 'UTC').hour;
        assert.ok(hour >= 8 && hour < 21, `touch ${touch.touch} sent at ${touch.sentAt}, in quiet hours`);
      }
      assertGaps(status.touches, minTouchGapMs(policy));
      await rig.send('n1', checkoutDeletedSignal, { at: new Date(t0).toISOString() });
    });
  });
});

/**
 * A worker outage needs a server whose clock runs: the time-skipping server does not skip time
 * while a workflow task waits for a worker, so these run on the dev server with a policy in
 * seconds (the only real-time waits of the suite, and a few seconds long).
 */
describe('send-time rules across a worker outage (dev server, real time)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  const SECOND = 1_000;
  const policy: RecoveryPolicy = {
    ...TEST_POLICY,
    abandonAfterMs: 2 * SECOND,
    touchDelaysMs: [2 * SECOND, 5 * SECOND, 9 * SECOND, 30 * SECOND],
    minTouchGapMs: SECOND,
    attributionWindowMs: 30 * SECOND,
    cooldownMs: 0,
  };
  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: ensureTemporalBinary('cli') }, ip: '127.0.0.1' },
    });
    await registerSearchAttributes(env);
    bundle = await workflowBundle(require.resolve('../src/workflows'));
  });
  after(async () => {
    await env?.teardown();
  });

  it('a restarted worker acts on the fired timer at once and sends only the latest overdue touch', async function () {
    const q = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const rig = cartRig(env, q, vendors, policy);
    const t0 = Date.now();
    const first = await cartWorker(env, q, vendors, bundle, { maxCachedWorkflows: 0 });
    await first.runUntil(async () => {
      await rig.update('w1', snapshot('w1', t0));
      await until(async () => (await rig.status('w1')).touches.length === 1, 'touch 1', 20_000);
    });
    // The worker is down while touch 2 (5 s) and touch 3 (9 s) fall due.
    await new Promise((r) => setTimeout(r, t0 + 11 * SECOND - Date.now()));
    const back = Date.now();
    const second = await cartWorker(env, q, vendors, bundle);
    await second.runUntil(async () => {
      await until(async () => (await rig.status('w1')).touches.length >= 3, 'the catch-up', 20_000);
      const status = await rig.status('w1');
      assert.deepEqual(
        status.touches.map((t) => [t.touch, t.skipped === true]),
        [
          [1, false],
          [2, true],
          [3, false],
        ],
        `touch 2 is skipped, touch 3 is sent: ${JSON.stringify(status.touches)}`,
      );
      const late = Date.parse(status.touches[2]!.sentAt) - back;
      assert.ok(late < 3 * SECOND, `touch 3 went out ${late} ms after the worker came back`);
      assert.equal(status.touches[2]!.discountPercent, 15, 'the latest touch goes out with its own discount');
      assert.deepEqual(
        vendors.sendAttempts.map((e) => e.touch),
        [1, 3],
      );
      assertGaps(status.touches, SECOND);
      await rig.send('w1', checkoutDeletedSignal, { at: new Date(t0).toISOString() });
      await rig.result('w1');
    });
  });
});

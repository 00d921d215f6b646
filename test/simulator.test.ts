/**
 * The traffic simulator against the real relay and a real Temporal (time-skipping test server,
 * recorder workflow): its signed, duplicated and reordered deliveries are all accepted, and each
 * checkout's workflow receives what its journey sent. The simulator runs on real time, so the
 * policy here is compressed to milliseconds.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { logger } from '../src/logger';
import { TrafficSimulator } from '../src/simulator/traffic';
import type { WebhookDelivery } from '../src/simulator/shopify-webhooks';
import { cartWorkflowId } from '../src/workflows/ids';
import { DEMO_POLICY } from '../src/workflows/policy';
import { registerSearchAttributes } from './helpers/cart';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './helpers/temporal';
import { relayConfig, SECRET_OLD, startRelay } from './helpers/relay';
import { recordedQuery } from './workflows/recorder';

const SHOP = 'sim-test.myshopify.com';

describe('webhook traffic simulator', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    logger.setLevel('error');
    env = await createTimeSkippingEnv();
    // sendToCart sets search attributes at start: the server must know them, as in production.
    await registerSearchAttributes(env);
  });
  after(async () => {
    await env?.teardown();
  });

  it('sends journeys whose signed, duplicated and reordered deliveries all reach the right workflows', async function () {
    const taskQueue = uniqueId(this.test!.title);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows/recorder')),
    });
    const relay = await startRelay({ client: env.client, config: relayConfig(taskQueue) });
    const sent: WebhookDelivery[] = [];
    const sim = new TrafficSimulator({
      url: relay.url,
      shop: SHOP,
      secret: SECRET_OLD,
      shoppersPerMinute: 1_200,
      maxShoppers: 24,
      duplicateRate: 0.3,
      reorderRate: 0.5,
      seed: 7,
      policy: { ...DEMO_POLICY, abandonAfterMs: 300, touchDelaysMs: [300, 600, 900, 1_200] },
      onAnswer: (d) => sent.push(d),
    });
    try {
      await worker.runUntil(async () => {
        sim.start();
        const deadline = Date.now() + 30_000;
        while (sim.stats.shoppers < 24 || sim.busy) {
          assert.ok(Date.now() < deadline, 'the simulator finished its journeys within 30 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(Object.keys(sim.stats.byStatus), ['200'], JSON.stringify(sim.stats.byStatus));
        assert.ok(sim.stats.duplicatesSent > 0 && sim.stats.reorderedSent > 0, JSON.stringify(sim.stats));
        assert.ok(Object.keys(sim.stats.byJourney).length >= 4, JSON.stringify(sim.stats.byJourney));

        const expected = new Map<string, Set<string>>();
        const expect = (token: string, signal: string) =>
          expected.set(token, (expected.get(token) ?? new Set()).add(signal));
        for (const d of sent) {
          const body = JSON.parse(d.body) as { token?: string; checkout_token?: string };
          if (d.topic.startsWith('checkouts/') && d.topic !== 'checkouts/delete')
            expect(body.token!, 'checkoutUpdated');
          if (d.topic.startsWith('orders/') && body.checkout_token)
            expect(body.checkout_token, 'orderPlaced');
        }
        assert.ok(expected.size > 10);
        for (const [token, signals] of expected) {
          // The test server may answer a query before applying a signal it has just accepted.
          const handle = env.client.workflow.getHandle(cartWorkflowId(SHOP, token));
          const settleBy = Date.now() + 10_000;
          let got = new Set<string>();
          while ([...signals].some((s) => !got.has(s)) && Date.now() < settleBy) {
            got = new Set((await handle.query(recordedQuery)).signals.map((s) => s.name));
            if ([...signals].some((s) => !got.has(s))) await new Promise((r) => setTimeout(r, 50));
          }
          for (const s of signals) assert.ok(got.has(s), `${token}: ${s} reached the workflow`);
        }
        const metrics = await relay.metrics();
        assert.match(metrics, /outcome="duplicate"/);
      });
    } finally {
      await sim.stop();
      await relay.close();
    }
  });
});

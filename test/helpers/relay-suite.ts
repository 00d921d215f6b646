/**
 * The set-up the relay suites share: one time-skipping Temporal server per suite (search
 * attributes registered, as in production), a relay and a recorder worker per test on a task
 * queue of the test's own. The cart workflow is stood in for by a recorder registered as
 * `cartRecovery` (test/workflows/recorder.ts), so each test sees exactly which signals reached
 * which workflow.
 */
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { logger } from '../../src/logger';
import { checkoutPayload, delivery, type SimCheckout } from '../../src/simulator/shopify-webhooks';
import { cartWorkflowId } from '../../src/workflows/ids';
import { recordedQuery, type Recorded } from '../workflows/recorder';
import { registerSearchAttributes } from './cart';
import { relayConfig, startRelay, type RelayHarness } from './relay';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './temporal';

export const SHOP = 'relay-test.myshopify.com';
export const T0 = '2026-11-25T10:00:00.000Z';
export const T1 = '2026-11-25T10:05:00.000Z';
export const T2 = '2026-11-25T10:09:00.000Z';

export interface RelaySuite {
  /** The suite's Temporal server (set once the suite's `before` hook ran). */
  readonly env: TestWorkflowEnvironment;
  withRelay: (
    title: string,
    fn: (relay: RelayHarness) => Promise<void>,
    options?: { client?: Client; configEnv?: Record<string, string> },
  ) => Promise<void>;
  /**
   * What the recorder has seen, once it holds at least `expected` signals: the time-skipping
   * server may answer a query before it has applied a signal it accepted just before.
   */
  recorded: (c: SimCheckout, expected?: number, shop?: string) => Promise<Recorded>;
  assertNoWorkflow: (c: SimCheckout) => Promise<void>;
}

/** Call inside a `describe`: registers the suite's hooks and returns its helpers. */
export function relaySuite(): RelaySuite {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    logger.setLevel('error');
    env = await createTimeSkippingEnv();
    // sendToCart sets search attributes at start: the server must know them, as in production.
    await registerSearchAttributes(env);
  });
  after(async () => {
    await env?.teardown();
  });
  const server = () => {
    if (!env) throw new Error('the relay suite has not started its Temporal server yet');
    return env;
  };
  return {
    get env() {
      return server();
    },
    async withRelay(title, fn, options = {}) {
      const taskQueue = uniqueId(title);
      const config = relayConfig(taskQueue, options.configEnv);
      const worker = await Worker.create({
        connection: server().nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(require.resolve('../workflows/recorder')),
      });
      const relay = await startRelay({ client: options.client ?? server().client, config });
      try {
        await worker.runUntil(fn(relay));
      } finally {
        await relay.close();
      }
    },
    async recorded(c, expected = 1, shop = SHOP) {
      const handle = server().client.workflow.getHandle(cartWorkflowId(shop, c.checkoutToken));
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await handle.query(recordedQuery);
        if (r.signals.length >= expected || Date.now() > deadline) return r;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async assertNoWorkflow(c) {
      await assert.rejects(
        server().client.workflow.getHandle(cartWorkflowId(SHOP, c.checkoutToken)).describe(),
        WorkflowNotFoundError,
      );
    },
  };
}

export const signalNames = (r: Recorded) => r.signals.map((s) => s.name);

/** A signed `checkouts/update` delivery of the shopper's checkout. */
export const checkoutUpdate = (c: SimCheckout, updatedAt = T0, shop = SHOP) =>
  delivery('checkouts/update', shop, checkoutPayload(c, { createdAt: T0, updatedAt }, shop), updatedAt);

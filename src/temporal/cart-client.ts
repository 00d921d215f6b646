/**
 * How the API (and tests, and the simulator) feed a checkout's workflow: `signalWithStart`, so
 * the first webhook about a checkout starts its workflow and every later one signals it, with
 * no read-then-write race between relay replicas.
 *
 * Id reuse is refused: once a checkout's workflow has closed (converted, deleted, finished), a
 * late or replayed webhook must not start a second sequence for it. `sendToCart` reports that
 * case as `{ accepted: false, reason: 'closed' }` instead of throwing.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { SignalDefinition } from '@temporalio/common';
import { cartWorkflowId, normaliseShopDomain } from '../workflows/ids';
import { CART_WORKFLOW_TYPE } from '../workflows/workflow-types';
import type { cartRecovery } from '../workflows/cart-recovery';
import type { ActivityTaskQueues, CartRecoveryInput } from '../workflows/messages';
import type { RecoveryPolicy } from '../workflows/policy';
import { CartShop, CartStage } from '../workflows/search-attributes';

export interface CartTarget {
  shop: string;
  checkoutToken: string;
}

export interface CartStartOptions {
  workflowTaskQueue: string;
  activityTaskQueues: ActivityTaskQueues;
  policy: RecoveryPolicy;
}

export type SendResult =
  | { accepted: true; workflowId: string; runId: string }
  | { accepted: false; workflowId: string; reason: 'closed' };

export async function sendToCart<Payload>(
  client: Client,
  options: CartStartOptions,
  target: CartTarget,
  signal: SignalDefinition<[Payload]>,
  payload: Payload,
): Promise<SendResult> {
  const shop = normaliseShopDomain(target.shop);
  const workflowId = cartWorkflowId(shop, target.checkoutToken);
  const input: CartRecoveryInput = {
    shop,
    checkoutToken: target.checkoutToken,
    policy: options.policy,
    taskQueues: options.activityTaskQueues,
  };
  try {
    const handle = await client.workflow.signalWithStart<typeof cartRecovery, [Payload]>(CART_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: options.workflowTaskQueue,
      args: [input],
      signal,
      signalArgs: [payload],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // Set at start, where they cost no billable action (the workflow upserts the rest later).
      typedSearchAttributes: [
        { key: CartShop, value: shop },
        { key: CartStage, value: 'watching' },
      ],
      staticSummary: `Checkout ${target.checkoutToken} of ${shop}`,
    });
    return { accepted: true, workflowId, runId: handle.signaledRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { accepted: false, workflowId, reason: 'closed' };
    throw err;
  }
}

/**
 * `acquireCustomerGate`: try to start the customer's gate workflow (see
 * workflows/customer-gate.ts). Temporal lets only one workflow with an id run at a time, so the
 * start itself is the atomic test-and-set: it succeeds for exactly one cart of a customer.
 *
 * Idempotent under retries: when the start fails because the gate is running, the gate is
 * asked who holds it; a retry after a lost answer finds this very cart as the holder and is
 * told "granted" again.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { CUSTOMER_GATE_WORKFLOW_TYPE } from '../workflows/workflow-types';
import type { customerGate } from '../workflows/customer-gate';
import { gateStatusQuery } from '../workflows/messages';
import type { GateActivities } from '../workflows/contracts';

export function createGateActivities(client: Client): GateActivities {
  return {
    async acquireCustomerGate(input) {
      try {
        await client.workflow.start<typeof customerGate>(CUSTOMER_GATE_WORKFLOW_TYPE, {
          workflowId: input.gateWorkflowId,
          taskQueue: input.taskQueue,
          args: [input.gate],
          // A closed gate (cooldown over, or timed out) may be started again; a running one not.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          workflowExecutionTimeout: input.executionTimeoutMs,
          staticSummary: `Frequency cap of one customer of ${input.gate.shop}`,
        });
        return { granted: true, holder: input.gate.holder };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const status = await client.workflow.getHandle(input.gateWorkflowId).query(gateStatusQuery);
        const mine = status.holder === input.gate.holder && status.releasedAt === null;
        return { granted: mine, holder: status.holder };
      }
    },
  };
}

/**
 * The workflow type names clients start by, in one place. Each is the name of a function the
 * worker's bundle exports (./index.ts); `satisfies` makes a renamed export a compile error here
 * instead of a start that no worker can run.
 */
import type * as workflows from '.';

type WorkflowTypeName = keyof typeof workflows;

export const CART_WORKFLOW_TYPE = 'cartRecovery' satisfies WorkflowTypeName;
/** The per-customer gate that grants the right to run a sequence (the frequency cap). */
export const CUSTOMER_GATE_WORKFLOW_TYPE = 'customerGate' satisfies WorkflowTypeName;
/** The engagement sync, run by a Temporal Schedule. */
export const ENGAGEMENT_SYNC_WORKFLOW_TYPE = 'engagementSync' satisfies WorkflowTypeName;

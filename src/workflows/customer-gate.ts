/**
 * The frequency cap: one running recovery sequence per customer and shop, and none within the
 * cooldown after the previous one ends.
 *
 * The gate is a workflow whose id is derived from the customer (`customer:<shop>:<hash>`), and
 * Temporal's guarantee that only one workflow with an id runs at a time is the lock. A cart
 * that is about to start its sequence asks the `acquireCustomerGate` activity to start the
 * gate (id reuse ALLOW_DUPLICATE, conflict policy FAIL): if the start succeeds, the cart holds
 * the right to send; if a gate with that id is already running (another sequence, or a
 * cooldown), the cart ends as `frequency_capped`. The server arbitrates; there is no race.
 * (The gate is not a child workflow: it outlives the cart, and a cart's history should not
 * collect the completion of a gate it no longer cares about.)
 *
 * The holder signals `releaseGate` when its sequence ends; the gate then stays open for the
 * cooldown and completes. Its execution timeout bounds the hold, so a cart that was
 * terminated by an operator (and so never released) cannot block the customer for ever.
 */
import { condition, setHandler, sleep } from '@temporalio/workflow';
import {
  gateStatusQuery,
  releaseGateSignal,
  type CustomerGateInput,
  type CustomerGateStatus,
} from './messages';

export async function customerGate(input: CustomerGateInput): Promise<CustomerGateStatus> {
  const status: CustomerGateStatus = { holder: input.holder, releasedAt: null, cooldownUntil: null };
  setHandler(releaseGateSignal, ({ holder }) => {
    // Only the holder may release; a stray or late signal from another cart changes nothing.
    if (holder === input.holder && status.releasedAt === null) status.releasedAt = new Date().toISOString();
  });
  setHandler(gateStatusQuery, () => status);

  await condition(() => status.releasedAt !== null);
  status.cooldownUntil = new Date(Date.now() + input.cooldownMs).toISOString();
  if (input.cooldownMs > 0) await sleep(input.cooldownMs, { summary: 'cooldown before the next sequence' });
  return status;
}

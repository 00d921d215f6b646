/**
 * `cartRecovery`: one workflow per Shopify checkout (id `cart:<shop>:<token>`). It watches the
 * checkout until it goes quiet, decides whether and how to win it back, sends the touches of
 * the sequence, and stops the moment it learns of an order. See docs/workflow.md.
 *
 * Shape: the signal handlers only record facts in the state (plain JSON, `state.ts`); the loop
 * asks the run (`run.ts`) for one step at a time until the cart has an outcome or a stop.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
} from '@temporalio/workflow';
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  checkoutUpdatedSignal,
  consentChangedSignal,
  orderPlacedSignal,
  statusQuery,
  type CartRecoveryInput,
  type CartRecoveryStatus,
} from '../messages';
import { policyProblems } from '../policy';
import {
  onCartActivity,
  onCheckoutDeleted,
  onCheckoutUpdated,
  onConsentChanged,
  onOrderPlaced,
} from './handlers';
import { CartRun } from './run';
import { initialState, statusOf, type CartState } from './state';

export type { CartState } from './state';

export async function cartRecovery(input: CartRecoveryInput): Promise<CartRecoveryStatus> {
  const problems = [
    ...(input.shop?.trim() ? [] : ['shop is empty']),
    ...(input.checkoutToken?.trim() ? [] : ['checkoutToken is empty']),
    ...policyProblems(input.policy),
  ];
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: 'InvalidCartRecoveryInput',
      message: `cartRecovery cannot start: ${problems.join('; ')}`,
      nonRetryable: true,
    });
  }
  const { policy } = input;
  const state: CartState = (input.carried as CartState | undefined) ?? initialState(input);
  const run = new CartRun(input, state);

  setHandler(checkoutUpdatedSignal, (snapshot) => onCheckoutUpdated(state, policy, snapshot));
  setHandler(cartActivitySignal, (activity) => onCartActivity(state, policy, activity));
  setHandler(orderPlacedSignal, (order) => onOrderPlaced(state, order));
  setHandler(consentChangedSignal, (consent) => onConsentChanged(state, consent));
  setHandler(checkoutDeletedSignal, (deleted) => onCheckoutDeleted(state, deleted));
  setHandler(statusQuery, () => statusOf(state));

  while (!run.over) {
    if (run.shouldContinueAsNew()) {
      await run.flush();
      await condition(allHandlersFinished);
      return await continueAsNew<typeof cartRecovery>({ ...input, carried: state });
    }
    await run.step();
  }
  await run.finish();
  await condition(allHandlersFinished);
  return statusOf(state);
}

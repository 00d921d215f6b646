/**
 * A test-only stand-in for the cart workflow, registered under the same type (`cartRecovery`):
 * it records every signal the relay sends, in arrival order, and answers `recorded`. Routing
 * tests use it to see exactly what reached which workflow. It closes on `checkoutDeleted`,
 * so tests can also observe the relay's answer for a closed workflow.
 */
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  checkoutUpdatedSignal,
  consentChangedSignal,
  orderPlacedSignal,
  type CartRecoveryInput,
} from '../../src/workflows/messages';

export interface RecordedSignal {
  name: string;
  payload: unknown;
}

export interface Recorded {
  input: CartRecoveryInput;
  signals: RecordedSignal[];
}

export const recordedQuery = defineQuery<Recorded>('recorded');

export async function cartRecovery(input: CartRecoveryInput): Promise<Recorded> {
  const signals: RecordedSignal[] = [];
  let deleted = false;
  const record = (name: string) => (payload: unknown) => void signals.push({ name, payload });
  setHandler(checkoutUpdatedSignal, record('checkoutUpdated'));
  setHandler(cartActivitySignal, record('cartActivity'));
  setHandler(orderPlacedSignal, record('orderPlaced'));
  setHandler(consentChangedSignal, record('consentChanged'));
  setHandler(checkoutDeletedSignal, (payload) => {
    signals.push({ name: 'checkoutDeleted', payload });
    deleted = true;
  });
  setHandler(recordedQuery, () => ({ input, signals }));
  await condition(() => deleted);
  return { input, signals };
}

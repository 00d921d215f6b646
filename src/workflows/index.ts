/** Every workflow the worker runs (the bundle entry point). */
export { cartRecovery } from './cart-recovery';
export { customerGate } from './customer-gate';
export { engagementSync } from './engagement-sync';

/**
 * The recovery policy the relay passes to each workflow it starts. One function, so that the
 * relay, `npm start` and the simulator agree on it.
 */
import type { Config } from '../config';
import type { RecoveryPolicy } from '../workflows/policy';

/**
 * True when `npm start` runs entirely locally: a dev server it starts itself and no vendor
 * credentials. That is when the demo policy and the demo traffic make sense.
 */
export function isLocalSandbox(config: Config): boolean {
  const { klaviyo, shopify, gorgias } = config.vendors;
  return !config.temporal.address && !klaviyo.live && !shopify.live && !gorgias.live;
}

export function recoveryPolicyFor(config: Config): RecoveryPolicy {
  // RECOVERY_POLICY and the RECOVERY_* settings; unset preset: the demo in the local sandbox.
  return config.recovery.policyFor(isLocalSandbox(config));
}

/**
 * Longest time a checkout's workflow can stay open after its last activity under `policy`: past
 * it, an index entry no longer points at an open workflow (a day of margin for quiet hours).
 */
export function maxWorkflowLifetimeMs(policy: RecoveryPolicy): number {
  const lastTouch = Math.max(policy.abandonAfterMs, ...policy.touchDelaysMs);
  return lastTouch + policy.attributionWindowMs + 24 * 3_600_000;
}

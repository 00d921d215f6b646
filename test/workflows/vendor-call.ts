/**
 * Test workflow: calls one vendor activity, by name, through Temporal's retry machinery, and
 * reports how much workflow time it took. With the time-skipping server, a retry that waits for
 * the delay a vendor asked for shows up as that much elapsed workflow time.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface VendorCall {
  activity: string;
  args: unknown[];
  maximumAttempts: number;
}

export async function callVendorActivity(call: VendorCall): Promise<{ result: unknown; elapsedMs: number }> {
  const activities = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({
    startToCloseTimeout: '30s',
    // A short, flat backoff: any longer wait can only come from the vendor's requested delay.
    retry: { initialInterval: '1s', backoffCoefficient: 1, maximumAttempts: call.maximumAttempts },
  });
  const started = Date.now();
  const result = await activities[call.activity]!(...call.args);
  return { result, elapsedMs: Date.now() - started };
}

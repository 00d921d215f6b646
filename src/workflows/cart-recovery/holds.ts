/**
 * What a cart holds on the customer's behalf and must give back on every path: the frequency
 * cap's gate (acquired before the first email, released at the end of the sequence) and the
 * live discount codes (all revoked when the cart ends).
 */
import { getExternalWorkflowHandle, log, patched, workflowInfo } from '@temporalio/workflow';
import { customerGateWorkflowId } from '../ids';
import { customerKey, stepKey } from '../keys';
import { releaseGateSignal } from '../messages';
import type { RecoveryPolicy } from '../policy';
import { CODE_LIFECYCLE_PATCH } from './patches';
import type { CartActivities } from './proxies';
import type { CartState, IssuedCode } from './state';
import { revokeInput } from './touch-inputs';
import type { CartWaits, Step } from './waits';

const DAY = 24 * 3_600_000;

export class CartHolds {
  constructor(
    private readonly state: CartState,
    private readonly policy: RecoveryPolicy,
    private readonly vendors: CartActivities,
    private readonly waits: CartWaits,
  ) {}

  async acquireGate(email: string): Promise<Step<boolean>> {
    const { state, policy } = this;
    const key = customerKey(email);
    const gateId = customerGateWorkflowId(state.shop, key);
    const lastDelay = policy.touchDelaysMs.at(-1)!;
    const grant = await this.waits.vendorStep(
      () =>
        this.vendors.gate.acquireCustomerGate({
          key: stepKey(state.shop, state.checkoutToken, 'gate'),
          gateWorkflowId: gateId,
          taskQueue: workflowInfo().taskQueue,
          // Bounds the hold if this cart is terminated and never releases (see customer-gate.ts).
          executionTimeoutMs: 2 * lastDelay + 2 * DAY + policy.cooldownMs,
          gate: {
            shop: state.shop,
            customerKey: key,
            holder: state.workflowId,
            cooldownMs: policy.cooldownMs,
          },
        }),
      { cancelOnStop: true },
    );
    if (grant.kind !== 'ok') return grant;
    if (grant.value.granted) state.gate = { workflowId: gateId, held: true };
    return { kind: 'ok', value: grant.value.granted };
  }

  async releaseGate(): Promise<void> {
    const gate = this.state.gate;
    if (!gate?.held) return;
    gate.held = false;
    try {
      await getExternalWorkflowHandle(gate.workflowId).signal(releaseGateSignal, {
        holder: this.state.workflowId,
      });
    } catch (err) {
      // The gate already ended (its execution timeout): nothing is held any more.
      log.warn('customer gate release not delivered', { gate: gate.workflowId, err });
    }
  }

  async revokeOutstandingCodes(): Promise<void> {
    const now = Date.now();
    // An expired code cannot be used any more: revoking it would be a wasted call.
    const outstanding = this.state.codes.filter((c) => !c.revoked && Date.parse(c.expiresAt) > now);
    if (outstanding.length === 0) return;
    if (!patched(CODE_LIFECYCLE_PATCH)) {
      await Promise.all(outstanding.map((code) => this.revokeCodes([code])));
      return;
    }
    // Since the previous touch's code lives until the next email is accepted, an end may find
    // two live codes: one activity revokes them all.
    await this.revokeCodes(outstanding);
  }

  private async revokeCodes(codes: IssuedCode[]): Promise<void> {
    const cleanup = this.vendors.shopifyCleanup;
    try {
      if (codes.length === 1) await cleanup.revokeDiscountCode(revokeInput(this.state, codes[0]!));
      else await cleanup.revokeDiscountCodes({ codes: codes.map((code) => revokeInput(this.state, code)) });
      for (const code of codes) code.revoked = true;
    } catch (err) {
      log.error('discount code not revoked (it expires on its own)', {
        workflowId: this.state.workflowId,
        touches: codes.map((code) => code.touch),
        err,
      });
    }
  }
}

/**
 * One cart's run: the steps the main loop takes (watch, a sequence step, a touch, attribution,
 * finish) and the support ticket; the customer gate and the discount codes it holds are in
 * holds.ts, the patch ids in patches.ts. Every step re-reads the state after each wait or
 * activity, so a fact a signal records at any moment (an order, a deletion, a consent
 * withdrawal, a newer snapshot) is acted on at the next step. See docs/workflow.md.
 */
import { log, patched, workflowInfo } from '@temporalio/workflow';
import { customerKey, stepKey } from '../keys';
import type { CartRecoveryInput, CheckoutSnapshot, TouchRecord } from '../messages';
import { reachesThreshold } from '../money';
import type { RecoveryPolicy, Segment } from '../policy';
import { isKnownTimeZone, nextSendableTime } from '../schedule';
import { decideSegment, inControlGroup } from '../segment';
import { cartActivities, type CartActivities } from './proxies';
import {
  cartChangedSinceAbandonment,
  codesIssuedFor,
  codeToRevoke,
  completedAsOrder,
  emailBlocked,
  endedEarlyAfterAbandonment,
  notRecoverable,
  orderOutcome,
  plannedDueAt,
  lastSentTouch,
  reusableCode,
} from './questions';
import { sendBlockedUntil, sendTimeDecision, sendWindowEnd } from './send-time';
import type { CartState } from './state';
import { abandonedEvent, convertedEvent, outcomeEvent, ticketCreatedEvent, touchSentEvent } from './events';
import { availableLines, issueInput, prepareInput, recoveryEmail } from './touch-inputs';
import { CartHolds } from './holds';
import { CODE_LIFECYCLE_PATCH, SEND_TIME_PATCH, WATCH_LATE_ORDER_PATCH } from './patches';
import { CartWaits } from './waits';

const MINUTE = 60_000;
/** After `completed_at` without an order webhook: how long to wait for the order (revenue). */
const ORDER_GRACE_MS = 30 * MINUTE;

export class CartRun {
  private readonly policy: RecoveryPolicy;
  private readonly vendors: CartActivities;
  private readonly waits: CartWaits;
  private readonly holds: CartHolds;

  constructor(
    input: CartRecoveryInput,
    readonly state: CartState,
  ) {
    this.policy = input.policy;
    this.vendors = cartActivities(input.taskQueues);
    this.waits = new CartWaits(state, input.policy, this.vendors.metrics);
    this.holds = new CartHolds(state, input.policy, this.vendors, this.waits);
  }

  readonly stopKnown = (): boolean => this.waits.stopKnown();

  /** The run has an outcome or learned of a stop: the main loop finishes it. */
  get over(): boolean {
    return this.state.outcome !== null || this.stopKnown();
  }

  /** One step of whichever stage the cart is in. */
  async step(): Promise<void> {
    if (this.state.stage === 'watching') await this.watch();
    else if (this.state.stage === 'sequence') await this.sequenceStep();
    else if (this.state.stage === 'attribution') await this.attributionStep();
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.policy.continueAsNewAfterEvents;
  }

  flush(): Promise<void> {
    return this.waits.flush();
  }

  /** Wait until the checkout has been quiet for `abandonAfter`, then decide if it is abandoned. */
  private async watch(): Promise<void> {
    const { state, policy } = this;
    if (state.lastActivityAt === null) {
      // Started by an order, consent or deletion before any checkout snapshot: wait for one.
      const seq = state.activitySeq;
      const woke = await this.waits.waitUntil(
        Date.now() + policy.attributionWindowMs,
        () => state.activitySeq !== seq || this.stopKnown(),
        'waiting for the checkout',
      );
      if (!woke) state.outcome = 'no_email';
      return;
    }
    const quietUntil = Date.parse(state.lastActivityAt) + policy.abandonAfterMs;
    if (Date.now() < quietUntil) {
      // Activity does not wake us: when the timer fires we re-read lastActivityAt and wait the
      // remainder, so a busy checkout costs one timer per window, not one per edit.
      await this.waits.waitUntil(quietUntil + this.jitter(), this.stopKnown, 'abandonment check');
      return;
    }
    const problem = notRecoverable(state);
    if (problem) {
      // No email or an empty cart: nothing to send, but the customer may come back and add it.
      const seq = state.activitySeq;
      const until = Date.parse(state.lastActivityAt) + policy.attributionWindowMs;
      const woke = await this.waits.waitUntil(
        until,
        () => state.activitySeq !== seq || this.stopKnown(),
        'waiting for an email or items',
      );
      if (!woke) state.outcome = problem;
      return;
    }
    state.abandonedAt = nowIso();
    state.firstAbandonedAt ??= state.abandonedAt;
    state.stage = 'sequence';
    state.nextTouch = null;
  }

  /** One step of the sequence: the once-per-checkout decisions, then wait for or send a touch. */
  private async sequenceStep(): Promise<void> {
    const { state, policy } = this;
    if (cartChangedSinceAbandonment(state)) {
      // The customer is back: detection starts again; touches already sent stay sent.
      state.stage = 'watching';
      state.abandonedAt = null;
      state.nextTouch = null;
      return;
    }
    const snapshot = state.snapshot!;
    const email = snapshot.email!;

    const identity = customerKey(email);
    state.factsFor ??= state.facts === null ? undefined : identity;
    if (state.facts !== null && state.factsFor !== identity && patched(SEND_TIME_PATCH)) {
      // A new address: consent, suppression and the frequency cap of the old one say nothing
      // about it. Read its facts and take its gate before any email goes to it.
      state.facts = null;
      await this.holds.releaseGate();
      state.gate = null;
    }
    if (state.facts === null) {
      const enriched = await this.waits.vendorStep(
        () =>
          this.vendors.klaviyoProfiles.enrichCustomer({
            key: stepKey(state.shop, state.checkoutToken, 'enrich'),
            shop: state.shop,
            email,
          }),
        { cancelOnStop: true },
      );
      if (enriched.kind === 'ended') state.outcome = enriched.outcome;
      if (enriched.kind !== 'ok') return;
      state.facts = enriched.value;
      state.factsFor = identity;
    }
    if (state.segmentDecidedAt !== state.abandonedAt) {
      state.segment = decideSegment(
        {
          cartValue: snapshot.totalPrice,
          currency: snapshot.currency,
          vip: state.facts.vip,
          ordersCount: state.facts.ordersCount,
        },
        policy.premiumThresholds,
      );
      state.segmentDecidedAt = state.abandonedAt;
    }
    const segment = state.segment!;
    state.controlGroup ??= inControlGroup(state.shop, state.checkoutToken, policy.controlGroupPercent);
    if (!state.abandonedRecorded) {
      state.outbox.push(abandonedEvent(state, segment));
      state.abandonedRecorded = true;
    }
    // The hand-off to support is not marketing: it does not wait for consent or the cap.
    if (
      !state.ticketDone &&
      !state.controlGroup &&
      reachesThreshold(snapshot.totalPrice, snapshot.currency, policy.ticketThresholds)
    ) {
      await this.createTicket(snapshot, segment);
      if (this.stopKnown()) return;
    }
    const blocked = emailBlocked(state, policy);
    if (blocked) {
      state.outcome = state.touches.length > 0 ? 'consent_withdrawn' : blocked;
      return;
    }
    if (state.gate === null) {
      const granted = await this.holds.acquireGate(email);
      if (granted.kind === 'ended') state.outcome = granted.outcome;
      if (granted.kind !== 'ok') return;
      if (!granted.value) {
        state.outcome = 'frequency_capped';
        return;
      }
    }

    const touch = state.touches.length + 1;
    if (touch > policy.touchDelaysMs.length) {
      await this.holds.releaseGate();
      state.stage = 'attribution';
      return;
    }
    const sendTime = patched(SEND_TIME_PATCH);
    const due = this.touchDueAt(touch, sendTime);
    if (!sendTime) {
      if (Date.now() < due) {
        await this.waits.waitUntil(due, this.touchWaitEnds, `touch ${touch} due`);
        return;
      }
      await this.sendTouch(touch, segment);
      return;
    }
    if (Date.now() < due) {
      const woke = await this.waits.waitUntil(due, this.touchWaitEnds, `touch ${touch} due`);
      // A stop or a change: the next step decides again from the top.
      if (woke) return;
    }
    // The timer for `due` fired, so that time has come, even if the first workflow task after a
    // cold replay still sees an older clock (it must not arm a second full-length timer).
    const now = Math.max(Date.now(), due);
    const decision = sendTimeDecision(state, policy, touch, now, this.recipientZone());
    if (decision.kind === 'wait') {
      this.deferTouch(touch, decision.until);
      return;
    }
    for (const skipped of decision.skipped) this.recordSkipped(skipped, now);
    await this.sendTouch(decision.touch, segment);
  }

  /** What ends the wait for a touch early: a stop, the shopper back, or consent gone. */
  private readonly touchWaitEnds = (): boolean =>
    this.stopKnown() ||
    cartChangedSinceAbandonment(this.state) ||
    emailBlocked(this.state, this.policy) !== null;

  /** The touch waits until `until` (the gap or quiet hours), plus jitter so a zone's carts spread. */
  private deferTouch(touch: number, until: number): void {
    const state = this.state;
    const dueAt = new Date(until + this.jitter()).toISOString();
    state.nextTouch = { touch, dueAt, forActivityAt: state.lastActivityAt! };
  }

  private recordSkipped(touch: number, at: number): void {
    const record = { touch, sentAt: new Date(at).toISOString(), discountPercent: 0, code: null };
    this.state.touches.push({ ...record, skipped: true });
  }

  private recipientZone(): string {
    const zone = this.state.facts?.timezone;
    return isKnownTimeZone(zone) ? zone : this.policy.shopTimezone;
  }

  private async sendTouch(touch: number, segment: Segment): Promise<void> {
    const { state, policy } = this;
    const percent = policy.discountLadders[segment][touch - 1] ?? 0;
    if (state.controlGroup) {
      // Held out: no vendor call at all, but the touch time is recorded so that conversions
      // are attributed the same way as in the treated group.
      this.recordTouch({ touch, sentAt: nowIso(), discountPercent: percent, code: null, suppressed: true });
      return;
    }
    const now = Date.now();
    // Code lifecycle (docs/workflow.md): a retried or repeated touch emails the live code it
    // already has, and the previous touch's code lives until this touch's email is accepted.
    const lifecycle = patched(CODE_LIFECYCLE_PATCH);
    const reused = lifecycle ? reusableCode(state, policy, touch, percent, now) : null;
    const issue = reused
      ? null
      : issueInput(state, policy, touch, percent, now, lifecycle ? codesIssuedFor(state, touch) + 1 : 1);
    const stale = lifecycle ? codeToRevoke(state) : (state.codes.filter((c) => !c.revoked).at(-1) ?? null);
    const prepared = await this.waits.vendorStep(
      () => this.vendors.shopify.prepareTouch(prepareInput(state, touch, issue, stale)),
      { cancelOnStop: false },
    );
    if (prepared.kind === 'ended') state.outcome = prepared.outcome;
    if (prepared.kind !== 'ok') return;
    const { revoked } = prepared.value;
    if (revoked && stale) stale.revoked = true;
    const issued = prepared.value.code;
    if (issued) state.codes.push({ ...issued, touch, revoked: false, percent });
    const code = issued ?? (reused && { code: reused.code, id: reused.id, expiresAt: reused.expiresAt });
    const available = availableLines(state, prepared.value);
    if (available.length === 0) {
      state.outcome = 'out_of_stock';
      return;
    }
    // The order may have arrived during the Shopify step: re-check before the email.
    if (this.stopKnown() || emailBlocked(state, policy) !== null || cartChangedSinceAbandonment(state))
      return;
    if (patched(SEND_TIME_PATCH)) {
      // A slow Shopify step may have run into quiet hours: the touch waits, its code stays live
      // and is reused when it goes out.
      const blockedUntil = sendBlockedUntil(state, policy, Date.now(), this.recipientZone());
      if (blockedUntil !== null) {
        this.deferTouch(touch, blockedUntil);
        return;
      }
    }

    const email = recoveryEmail(
      state,
      policy,
      touch,
      segment,
      prepared.value,
      available,
      code ? { discount: code, percent } : null,
    );
    // Anything that blocks a send cancels it while queued or running (docs/workflow.md, Stop on
    // order): an order or deletion, and since decide-at-send-time also a consent withdrawal, a
    // redaction or the shopper back on the site.
    const sendTime = patched(SEND_TIME_PATCH);
    const sendBy = sendTime ? sendWindowEnd(state, policy, touch, Date.now(), this.recipientZone()) : null;
    const request = sendBy === null ? email : { ...email, sendBy: new Date(sendBy).toISOString() };
    const sent = await this.waits.vendorStep(() => this.vendors.klaviyo.sendRecoveryEmail(request), {
      cancelOnStop: true,
      cancelWhen: sendTime ? this.touchWaitEnds : undefined,
    });
    if (sent.kind === 'ended') state.outcome = sent.outcome;
    if (sent.kind !== 'ok') return;
    this.recordTouch({
      touch,
      sentAt: nowIso(),
      discountPercent: code ? percent : 0,
      code: code?.code ?? null,
    });
  }

  private recordTouch(record: TouchRecord) {
    const state = this.state;
    state.touches.push(record);
    state.nextTouch = null;
    if (!record.suppressed) state.outbox.push(touchSentEvent(state, record));
  }

  /** All touches are out: wait out the attribution window for a late order. */
  private async attributionStep(): Promise<void> {
    await this.holds.releaseGate();
    const last = lastSentTouch(this.state);
    const until = (last ? Date.parse(last.sentAt) : Date.now()) + this.policy.attributionWindowMs;
    const woke = await this.waits.waitUntil(until, this.stopKnown, 'attribution window');
    if (!woke) this.state.outcome = this.state.controlGroup ? 'control_group_not_recovered' : 'not_recovered';
  }

  /**
   * The sequence ended early, but "an order for the checkout, at any point, is counted as a
   * conversion": stop everything that is marketing (live codes, the customer's gate) and wait
   * out the attribution window for the order. The outcome stays what ended the sequence.
   */
  private async watchForLateOrder(): Promise<void> {
    await this.holds.revokeOutstandingCodes();
    await this.holds.releaseGate();
    this.state.stage = 'attribution';
    const last = lastSentTouch(this.state);
    const from = last ? last.sentAt : this.state.abandonedAt!;
    await this.waits.waitUntil(
      Date.parse(from) + this.policy.attributionWindowMs,
      this.stopKnown,
      'watching for a late order',
    );
  }

  /** Record the outcome, clean up codes and the gate, and flush: the workflow can complete. */
  async finish(): Promise<void> {
    const { state, policy } = this;
    if (endedEarlyAfterAbandonment(state) && patched(WATCH_LATE_ORDER_PATCH)) {
      await this.watchForLateOrder();
    }
    if (state.outcome === null && !state.order && state.completedAt && !state.deletedAt) {
      // Shopify marked the checkout completed; the order webhook (revenue) is usually close.
      await this.waits.waitUntil(
        Date.now() + ORDER_GRACE_MS,
        () => state.order !== null,
        'waiting for the order',
      );
    }
    if (state.outcome === null) {
      state.outcome = state.order
        ? orderOutcome(state, policy, state.order.at)
        : state.completedAt
          ? 'completed_at_checkout'
          : 'deleted';
    }
    const conversion =
      state.order ?? (state.outcome === 'completed_at_checkout' ? completedAsOrder(state) : null);
    if (conversion) state.outbox.push(convertedEvent(state, policy, conversion));
    await this.holds.revokeOutstandingCodes();
    await this.holds.releaseGate();
    state.outbox.push(outcomeEvent(state, nowIso()));
    state.stage = 'done';
    state.nextTouch = null;
    await this.flush();
  }

  /** When touch `touch` is due: delay after the last activity, jitter, then out of quiet hours. */
  private touchDueAt(touch: number, sendTime: boolean): number {
    const { state, policy } = this;
    const planned = plannedDueAt(state, touch);
    if (planned !== null) return planned;
    const activityAt = state.lastActivityAt!;
    const delay = policy.touchDelaysMs[touch - 1]!;
    const zone = this.recipientZone();
    // Jitter after the quiet-hours shift, so that a zone's deferred carts do not all wake at
    // 08:00:00; an overdue time is not pulled up to now: the send-time decision handles it.
    const due = sendTime
      ? nextSendableTime(Date.parse(activityAt) + delay, zone, policy.quietHours) + this.jitter()
      : Math.max(
          nextSendableTime(Date.parse(activityAt) + delay + this.jitter(), zone, policy.quietHours),
          Date.now(),
        );
    state.nextTouch = { touch, dueAt: new Date(due).toISOString(), forActivityAt: activityAt };
    return due;
  }

  private jitter(): number {
    // Math.random is seeded per run by Temporal: deterministic on replay.
    return Math.floor(Math.random() * this.policy.timerJitterMs);
  }

  private async createTicket(snapshot: CheckoutSnapshot, segment: Segment): Promise<void> {
    const state = this.state;
    try {
      const { ticketId } = await this.vendors.gorgias.createSupportTicket({
        key: stepKey(state.shop, state.checkoutToken, 'ticket'),
        shop: state.shop,
        checkout: snapshot,
        segment,
      });
      state.ticketId = ticketId;
      state.outbox.push(ticketCreatedEvent(state, ticketId, nowIso()));
    } catch (err) {
      // A hand-off that cannot be made must not stop the emails; it is logged for support.
      log.error('support ticket not created', { workflowId: state.workflowId, err });
    }
    state.ticketDone = true;
  }
}

function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

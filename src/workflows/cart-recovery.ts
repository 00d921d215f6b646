/**
 * `cartRecovery`: one workflow per Shopify checkout (id `cart:<shop>:<token>`). It watches the
 * checkout until it goes quiet, decides whether and how to win it back, sends the touches of
 * the sequence, and stops the moment it learns of an order. See docs/workflow.md.
 *
 * Shape: signal handlers only record facts in `state` (plain JSON); the main loop reads the
 * state and takes one step at a time (watch, one touch, attribution). Every step re-reads the
 * state after each wait or activity, so a fact that arrives at any moment (an order, a deletion,
 * a consent withdrawal, a newer snapshot) is acted on at the next step.
 *
 * Cost discipline (billable actions): search attributes and metrics are buffered and flushed
 * once, right before the workflow waits, instead of after every change.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  FailureType,
  type CustomerFacts,
  type EmailItem,
  type GateActivities,
  type KlaviyoActivities,
  type GorgiasActivities,
  type LocalActivities,
  type MetricEvent,
  type ShopifyActivities,
  type TouchActivities,
  type RecoveryEmail,
} from './contracts';
import { touchCopy } from './copy';
import { emailBlockedBy, type Ineligibility } from './eligibility';
import { cartWorkflowId, customerGateWorkflowId, normaliseShopDomain } from './ids';
import { customerKey, stepKey } from './keys';
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  checkoutUpdatedSignal,
  consentChangedSignal,
  CONSENT_STATES,
  orderPlacedSignal,
  releaseGateSignal,
  statusQuery,
  type CartRecoveryInput,
  type CartRecoveryStatus,
  type CheckoutSnapshot,
  type ConsentChanged,
  type OrderPlaced,
  type Outcome,
  type Stage,
  type TouchRecord,
} from './messages';
import { isDecimal, reachesThreshold } from './money';
import { policyProblems, type RecoveryPolicy, type Segment } from './policy';
import { isKnownTimeZone, nextSendableTime } from './schedule';
import {
  CartCurrency,
  CartNextTouch,
  CartOutcome,
  CartSegment,
  CartShop,
  CartStage,
  CartValue,
} from './search-attributes';
import { decideSegment, inControlGroup } from './segment';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** How long a cart waits before retrying after a vendor rejected our credentials. */
const CREDENTIALS_RETRY_MS = 15 * MINUTE;
/** After `completed_at` without an order webhook: how long to wait for the order (revenue). */
const ORDER_GRACE_MS = 30 * MINUTE;
const MAX_CONSENTS_KEPT = 20;
/**
 * Patch id (docs/workflow.md, "Changing workflow logic safely"): a cart whose sequence ends
 * without an order after abandonment (capped, consent, stock, vendor refusal) keeps watching
 * for a late order until its attribution window closes, so that order counts as a conversion.
 * Carts that ended before this change finish as they did.
 */
const WATCH_LATE_ORDER_PATCH = 'watch-late-order-after-early-end';
/** Outcomes that end the sequence after abandonment without an order being known. */
const ENDED_WITHOUT_ORDER: ReadonlySet<Outcome> = new Set<Outcome>([
  'no_consent',
  'suppressed',
  'consent_withdrawn',
  'frequency_capped',
  'out_of_stock',
  'invalid_email',
  'vendor_refused',
]);

interface IssuedCode {
  touch: number;
  id: string;
  code: string;
  expiresAt: string;
  revoked: boolean;
}

interface SearchAttributeValues {
  shop: string | null;
  stage: Stage | null;
  segment: Segment | null;
  value: number | null;
  currency: string | null;
  nextTouch: number | null;
  outcome: Outcome | null;
}

/** Everything the workflow knows; plain JSON, carried whole through continue-as-new. */
export interface CartState {
  version: 1;
  shop: string;
  checkoutToken: string;
  workflowId: string;
  snapshot: CheckoutSnapshot | null;
  lastActivityAt: string | null;
  /** Bumped whenever `lastActivityAt` moves forward: "the customer did something". */
  activitySeq: number;
  order: OrderPlaced | null;
  completedAt: string | null;
  deletedAt: string | null;
  /** Consent webhooks, kept until the customer is known (a consent may arrive first). */
  consents: ConsentChanged[];
  stage: Stage;
  abandonedAt: string | null;
  firstAbandonedAt: string | null;
  facts: CustomerFacts | null;
  segment: Segment | null;
  segmentDecidedAt: string | null;
  controlGroup: boolean | null;
  abandonedRecorded: boolean;
  gate: { workflowId: string; held: boolean } | null;
  ticketDone: boolean;
  ticketId: string | null;
  touches: TouchRecord[];
  codes: IssuedCode[];
  nextTouch: { touch: number; dueAt: string; forActivityAt: string } | null;
  outcome: Outcome | null;
  outbox: MetricEvent[];
  searchAttributes: SearchAttributeValues;
}

type Step<T> =
  | { kind: 'ok'; value: T }
  /** An order, deletion or completion became known: the main loop ends the workflow. */
  | { kind: 'stopped' }
  | { kind: 'ended'; outcome: Outcome }
  /** Try the same step again later (the state says where). */
  | { kind: 'retry' };

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
  const policy: RecoveryPolicy = input.policy;
  const state: CartState = (input.carried as CartState | undefined) ?? initialState(input);
  const queues = input.taskQueues;

  // ---- handlers first: they only record facts ------------------------------------------------
  setHandler(checkoutUpdatedSignal, (snapshot) => {
    const problem = snapshotProblem(snapshot, state.checkoutToken);
    if (problem) return void log.warn('checkoutUpdated ignored', { problem, workflowId: state.workflowId });
    // Shopify retries and reorders deliveries: only a strictly newer snapshot replaces ours.
    if (state.snapshot && Date.parse(snapshot.updatedAt) <= Date.parse(state.snapshot.updatedAt)) return;
    state.snapshot = snapshot;
    if (snapshot.completedAt) state.completedAt ??= snapshot.completedAt;
    noteActivity(snapshot.updatedAt);
  });
  setHandler(cartActivitySignal, (activity) => {
    if (!activity || typeof activity.cartToken !== 'string' || !isTime(activity.at)) {
      return void log.warn('cartActivity ignored', {
        problem: 'malformed payload',
        workflowId: state.workflowId,
      });
    }
    const cartToken = state.snapshot?.cartToken;
    if (cartToken && cartToken !== activity.cartToken) return;
    noteActivity(activity.at);
  });
  setHandler(orderPlacedSignal, (order) => {
    const problem = orderProblem(order, state);
    if (problem) return void log.warn('orderPlaced ignored', { problem, workflowId: state.workflowId });
    state.order ??= order; // the first order ends the cart; duplicates change nothing
  });
  setHandler(consentChangedSignal, (consent) => {
    if (!consent || !CONSENT_STATES.includes(consent.state) || !isTime(consent.at)) {
      return void log.warn('consentChanged ignored', {
        problem: 'malformed payload',
        workflowId: state.workflowId,
      });
    }
    if (state.consents.some((c) => c.at === consent.at && c.state === consent.state)) return;
    state.consents = [...state.consents, consent].slice(-MAX_CONSENTS_KEPT);
  });
  setHandler(checkoutDeletedSignal, (deleted) => {
    state.deletedAt ??= deleted && isTime(deleted.at) ? deleted.at : nowIso();
  });
  setHandler(statusQuery, () => statusOf(state));

  function noteActivity(at: string) {
    // A clock far ahead of ours must not push abandonment into the future for ever.
    const capped = Math.min(Date.parse(at), Date.now() + policy.abandonAfterMs);
    if (state.lastActivityAt === null || capped > Date.parse(state.lastActivityAt)) {
      state.lastActivityAt = new Date(capped).toISOString();
      state.activitySeq += 1;
    }
  }

  // ---- activities ----------------------------------------------------------------------------
  const retry = {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: Object.values(FailureType),
  };
  const klaviyo = proxyActivities<KlaviyoActivities>({
    taskQueue: queues.klaviyo,
    startToCloseTimeout: '1m',
    retry,
    // An order that arrives while a send is queued or running cancels it, and the workflow
    // waits to learn whether the email went out (see the stop-on-order rule in docs).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const klaviyoProfiles = proxyActivities<Pick<KlaviyoActivities, 'enrichCustomer'>>({
    taskQueue: queues.klaviyoProfiles ?? queues.klaviyo,
    startToCloseTimeout: '1m',
    retry,
  });
  const shopify = proxyActivities<ShopifyActivities & TouchActivities>({
    taskQueue: queues.shopify,
    startToCloseTimeout: '1m',
    retry,
  });
  // Codes expire on their own (discountValidityMs): a revocation that cannot be done within
  // an hour is logged and given up rather than holding the cart open.
  const shopifyCleanup = proxyActivities<ShopifyActivities>({
    taskQueue: queues.shopify,
    startToCloseTimeout: '1m',
    scheduleToCloseTimeout: '1h',
    retry,
  });
  const gorgias = proxyActivities<GorgiasActivities>({
    taskQueue: queues.gorgias,
    startToCloseTimeout: '1m',
    scheduleToCloseTimeout: '1d',
    retry,
  });
  // The gate activity only starts (or asks) a workflow: it runs beside the workflows.
  const gate = proxyActivities<GateActivities>({
    taskQueue: queues.local,
    startToCloseTimeout: '30s',
    retry,
  });
  // Metrics are local activities: all of them in one workflow task cost one action.
  const metrics = proxyLocalActivities<LocalActivities>({
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '1m',
    retry: { initialInterval: '1s', maximumInterval: '10s' },
  });

  // ---- the main loop -------------------------------------------------------------------------
  while (state.outcome === null && !stopKnown()) {
    if (shouldContinueAsNew()) {
      await flush();
      await condition(allHandlersFinished);
      return await continueAsNew<typeof cartRecovery>({ ...input, carried: state });
    }
    if (state.stage === 'watching') await watch();
    else if (state.stage === 'sequence') await sequenceStep();
    else if (state.stage === 'attribution') await attributionStep();
  }
  return await finish();

  // ---- steps ---------------------------------------------------------------------------------

  /** Wait until the checkout has been quiet for `abandonAfter`, then decide if it is abandoned. */
  async function watch(): Promise<void> {
    if (state.lastActivityAt === null) {
      // Started by an order, consent or deletion before any checkout snapshot: wait for one.
      const seq = state.activitySeq;
      const woke = await waitUntil(
        Date.now() + policy.attributionWindowMs,
        () => state.activitySeq !== seq || stopKnown(),
        'waiting for the checkout',
      );
      if (!woke) state.outcome = 'no_email';
      return;
    }
    const quietUntil = Date.parse(state.lastActivityAt) + policy.abandonAfterMs;
    if (Date.now() < quietUntil) {
      // Activity does not wake us: when the timer fires we re-read lastActivityAt and wait the
      // remainder, so a busy checkout costs one timer per window, not one per edit.
      await waitUntil(quietUntil + jitter(), stopKnown, 'abandonment check');
      return;
    }
    const problem = notRecoverable();
    if (problem) {
      // No email or an empty cart: nothing to send, but the customer may come back and add it.
      const seq = state.activitySeq;
      const until = Date.parse(state.lastActivityAt) + policy.attributionWindowMs;
      const woke = await waitUntil(
        until,
        () => state.activitySeq !== seq || stopKnown(),
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
  async function sequenceStep(): Promise<void> {
    if (cartChangedSinceAbandonment()) {
      // The customer is back: detection starts again; touches already sent stay sent.
      state.stage = 'watching';
      state.abandonedAt = null;
      state.nextTouch = null;
      return;
    }
    const snapshot = state.snapshot!;
    const email = snapshot.email!;

    if (state.facts === null) {
      const enriched = await vendorStep(
        () =>
          klaviyoProfiles.enrichCustomer({
            key: stepKey(state.shop, state.checkoutToken, 'enrich'),
            shop: state.shop,
            email,
          }),
        true,
      );
      if (enriched.kind === 'ended') state.outcome = enriched.outcome;
      if (enriched.kind !== 'ok') return;
      state.facts = enriched.value;
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
      state.outbox.push({
        kind: 'abandoned',
        key: stepKey(state.shop, state.checkoutToken, 'abandoned:metric'),
        shop: state.shop,
        checkoutToken: state.checkoutToken,
        workflowId: state.workflowId,
        segment,
        cartValue: snapshot.totalPrice,
        currency: snapshot.currency,
        controlGroup: state.controlGroup,
        at: state.abandonedAt!,
      });
      state.abandonedRecorded = true;
    }
    // The hand-off to support is not marketing: it does not wait for consent or the cap.
    if (
      !state.ticketDone &&
      !state.controlGroup &&
      reachesThreshold(snapshot.totalPrice, snapshot.currency, policy.ticketThresholds)
    ) {
      await createTicket(snapshot, segment);
      if (stopKnown()) return;
    }
    const blocked = emailBlocked();
    if (blocked) {
      state.outcome = state.touches.length > 0 ? 'consent_withdrawn' : blocked;
      return;
    }
    if (state.gate === null) {
      const granted = await acquireGate(email);
      if (granted.kind === 'ended') state.outcome = granted.outcome;
      if (granted.kind !== 'ok') return;
      if (!granted.value) {
        state.outcome = 'frequency_capped';
        return;
      }
    }

    const touch = state.touches.length + 1;
    if (touch > policy.touchDelaysMs.length) {
      await releaseGate();
      state.stage = 'attribution';
      return;
    }
    const due = touchDueAt(touch);
    if (Date.now() < due) {
      await waitUntil(
        due,
        () => stopKnown() || cartChangedSinceAbandonment() || emailBlocked() !== null,
        `touch ${touch} due`,
      );
      return;
    }
    await sendTouch(touch, segment);
  }

  async function sendTouch(touch: number, segment: Segment): Promise<void> {
    const snapshot = state.snapshot!;
    const percent = policy.discountLadders[segment][touch - 1] ?? 0;
    if (state.controlGroup) {
      // Held out: no vendor call at all, but the touch time is recorded so that conversions
      // are attributed the same way as in the treated group.
      recordTouch({ touch, sentAt: nowIso(), discountPercent: percent, code: null, suppressed: true });
      return;
    }
    const now = Date.now();
    const previous = state.codes.filter((c) => !c.revoked).at(-1) ?? null;
    const issue =
      percent > 0
        ? {
            key: stepKey(state.shop, state.checkoutToken, `touch-${touch}:code`),
            shop: state.shop,
            checkoutToken: state.checkoutToken,
            customerId: snapshot.customerId,
            email: snapshot.email!,
            percent,
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now + policy.discountValidityMs).toISOString(),
          }
        : null;
    const prepared = await vendorStep(
      () =>
        shopify.prepareTouch({
          key: stepKey(state.shop, state.checkoutToken, `touch-${touch}:prepare`),
          stock: {
            key: stepKey(state.shop, state.checkoutToken, `touch-${touch}:prepare`),
            shop: state.shop,
            items: snapshot.lineItems.map(({ key, variantId, productId, quantity }) => ({
              key,
              variantId,
              productId,
              quantity,
            })),
          },
          issue,
          revoke: issue && previous ? revokeInput(previous) : null,
        }),
      false,
    );
    if (prepared.kind === 'ended') state.outcome = prepared.outcome;
    if (prepared.kind !== 'ok') return;
    const { variants, code, revoked } = prepared.value;
    if (revoked && previous) previous.revoked = true;
    if (code)
      state.codes.push({ touch, id: code.id, code: code.code, expiresAt: code.expiresAt, revoked: false });
    const facts = new Map(variants.map((v) => [v.lineKey, v]));
    // A line the lookup did not report is kept: unknown is not out of stock.
    const available = snapshot.lineItems.filter((line) => facts.get(line.key)?.available !== false);
    if (available.length === 0) {
      state.outcome = 'out_of_stock';
      return;
    }
    // The order may have arrived during the Shopify step: re-check before the email.
    if (stopKnown() || emailBlocked() !== null || cartChangedSinceAbandonment()) return;

    const copy = touchCopy(segment, touch);
    const items: EmailItem[] = available.map((line) => ({
      title: line.title,
      variantTitle: line.variantTitle,
      quantity: line.quantity,
      price: line.price,
      imageUrl: facts.get(line.key)?.imageUrl ?? null,
      productUrl: facts.get(line.key)?.productUrl ?? null,
    }));
    const email: RecoveryEmail = {
      key: stepKey(state.shop, state.checkoutToken, `touch-${touch}:send`),
      shop: state.shop,
      checkoutToken: state.checkoutToken,
      email: snapshot.email!,
      firstName: snapshot.firstName,
      touch,
      totalTouches: policy.touchDelaysMs.length,
      segment,
      subject: copy.subject,
      preheader: copy.preheader,
      items,
      total: snapshot.totalPrice,
      currency: snapshot.currency,
      restoreUrl: snapshot.restoreUrl ?? `https://${state.shop}/cart`,
      discount: code ? { code: code.code, percent, expiresAt: code.expiresAt } : null,
    };
    const sent = await vendorStep(() => klaviyo.sendRecoveryEmail(email), true);
    if (sent.kind === 'ended') state.outcome = sent.outcome;
    if (sent.kind !== 'ok') return;
    recordTouch({ touch, sentAt: nowIso(), discountPercent: code ? percent : 0, code: code?.code ?? null });
  }

  function recordTouch(record: TouchRecord) {
    state.touches.push(record);
    state.nextTouch = null;
    if (record.suppressed) return;
    state.outbox.push({
      kind: 'touch_sent',
      key: stepKey(state.shop, state.checkoutToken, `touch-${record.touch}:metric`),
      shop: state.shop,
      checkoutToken: state.checkoutToken,
      touch: record.touch,
      segment: state.segment!,
      discountPercent: record.discountPercent,
      at: record.sentAt,
    });
  }

  /** All touches are out: wait out the attribution window for a late order. */
  async function attributionStep(): Promise<void> {
    await releaseGate();
    const last = state.touches.at(-1);
    const until = (last ? Date.parse(last.sentAt) : Date.now()) + policy.attributionWindowMs;
    const woke = await waitUntil(until, stopKnown, 'attribution window');
    if (!woke) state.outcome = state.controlGroup ? 'control_group_not_recovered' : 'not_recovered';
  }

  /**
   * The sequence ended early, but "an order for the checkout, at any point, is counted as a
   * conversion": stop everything that is marketing (live codes, the customer's gate) and wait
   * out the attribution window for the order. The outcome stays what ended the sequence.
   */
  async function watchForLateOrder(): Promise<void> {
    await revokeOutstandingCodes();
    await releaseGate();
    state.stage = 'attribution';
    const last = state.touches.at(-1);
    const from = last ? last.sentAt : state.abandonedAt!;
    await waitUntil(Date.parse(from) + policy.attributionWindowMs, stopKnown, 'watching for a late order');
  }

  /** Record the outcome, clean up codes and the gate, flush, and complete. */
  async function finish(): Promise<CartRecoveryStatus> {
    if (
      state.outcome !== null &&
      ENDED_WITHOUT_ORDER.has(state.outcome) &&
      state.abandonedRecorded &&
      state.abandonedAt !== null &&
      !stopKnown() &&
      patched(WATCH_LATE_ORDER_PATCH)
    ) {
      await watchForLateOrder();
    }
    if (state.outcome === null && !state.order && state.completedAt && !state.deletedAt) {
      // Shopify marked the checkout completed; the order webhook (revenue) is usually close.
      await waitUntil(Date.now() + ORDER_GRACE_MS, () => state.order !== null, 'waiting for the order');
    }
    if (state.outcome === null) {
      state.outcome = state.order
        ? orderOutcome(state.order.at)
        : state.completedAt
          ? 'completed_at_checkout'
          : 'deleted';
    }
    const conversion = state.order ?? (state.outcome === 'completed_at_checkout' ? completedAsOrder() : null);
    if (conversion) {
      state.outbox.push({
        kind: 'converted',
        key: stepKey(state.shop, state.checkoutToken, 'converted:metric'),
        shop: state.shop,
        checkoutToken: state.checkoutToken,
        orderId: conversion.orderId,
        revenue: conversion.totalPrice,
        currency: conversion.currency,
        attributedTouch: attributedTouch(conversion.at),
        segment: state.segment,
        controlGroup: state.controlGroup ?? false,
        at: conversion.at,
      });
    }
    await revokeOutstandingCodes();
    await releaseGate();
    state.outbox.push({
      kind: 'outcome',
      key: stepKey(state.shop, state.checkoutToken, 'outcome:metric'),
      shop: state.shop,
      checkoutToken: state.checkoutToken,
      outcome: state.outcome,
      at: nowIso(),
    });
    state.stage = 'done';
    state.nextTouch = null;
    await flush();
    await condition(allHandlersFinished);
    return statusOf(state);
  }

  // ---- helpers that read or change the state --------------------------------------------------

  function stopKnown(): boolean {
    return state.order !== null || state.completedAt !== null || state.deletedAt !== null;
  }

  function orderOutcome(orderAt: string): Outcome {
    if (state.firstAbandonedAt === null) return 'converted_before_abandonment';
    if (state.controlGroup) return 'control_group_recovered';
    return attributedTouch(orderAt) !== null ? 'recovered' : 'converted_before_first_touch';
  }

  /** The last touch sent at or before the order and within the attribution window. */
  function attributedTouch(orderAt: string): number | null {
    const at = Date.parse(orderAt);
    const eligible = state.touches.filter((t) => {
      const sent = Date.parse(t.sentAt);
      return sent <= at && at - sent <= policy.attributionWindowMs;
    });
    return eligible.at(-1)?.touch ?? null;
  }

  function completedAsOrder(): OrderPlaced {
    const snapshot = state.snapshot!;
    return {
      orderId: `checkout:${state.checkoutToken}`,
      totalPrice: snapshot.totalPrice,
      currency: snapshot.currency,
      checkoutToken: state.checkoutToken,
      cartToken: snapshot.cartToken,
      at: state.completedAt!,
    };
  }

  function notRecoverable(): Outcome | null {
    const snapshot = state.snapshot;
    if (!snapshot || !snapshot.email || !snapshot.email.includes('@')) return 'no_email';
    if (snapshot.lineItems.length === 0 || snapshot.lineItems.every((l) => l.quantity <= 0))
      return 'empty_cart';
    return null;
  }

  function cartChangedSinceAbandonment(): boolean {
    return (
      state.abandonedAt !== null &&
      state.lastActivityAt !== null &&
      Date.parse(state.lastActivityAt) > Date.parse(state.abandonedAt)
    );
  }

  function latestConsent(): ConsentChanged | null {
    const snapshot = state.snapshot;
    if (!snapshot) return null;
    const email = snapshot.email?.trim().toLowerCase() ?? null;
    const mine = state.consents.filter(
      (c) =>
        (c.customerId !== null && c.customerId === snapshot.customerId) ||
        (c.email !== null && email !== null && c.email.trim().toLowerCase() === email),
    );
    return mine.reduce<ConsentChanged | null>(
      (a, c) => (a === null || Date.parse(c.at) >= Date.parse(a.at) ? c : a),
      null,
    );
  }

  function emailBlocked(): Ineligibility | null {
    return emailBlockedBy({
      acceptsMarketing: state.snapshot?.acceptsMarketing ?? false,
      checkoutUpdatedAt: state.snapshot?.updatedAt ?? null,
      latestConsent: latestConsent(),
      facts: state.facts,
      requireMarketingConsent: policy.requireMarketingConsent,
    });
  }

  /** When touch `touch` is due: delay after the last activity, jitter, then out of quiet hours. */
  function touchDueAt(touch: number): number {
    const activityAt = state.lastActivityAt!;
    const planned = state.nextTouch;
    if (planned && planned.touch === touch && planned.forActivityAt === activityAt)
      return Date.parse(planned.dueAt);
    const raw = Date.parse(activityAt) + policy.touchDelaysMs[touch - 1]! + jitter();
    const zone = isKnownTimeZone(state.facts?.timezone) ? state.facts.timezone : policy.shopTimezone;
    const due = Math.max(nextSendableTime(raw, zone, policy.quietHours), Date.now());
    state.nextTouch = { touch, dueAt: new Date(due).toISOString(), forActivityAt: activityAt };
    return due;
  }

  function jitter(): number {
    // Math.random is seeded per run by Temporal: deterministic on replay.
    return Math.floor(Math.random() * policy.timerJitterMs);
  }

  async function acquireGate(email: string): Promise<Step<boolean>> {
    const key = customerKey(email);
    const gateId = customerGateWorkflowId(state.shop, key);
    const lastDelay = policy.touchDelaysMs.at(-1)!;
    const grant = await vendorStep(
      () =>
        gate.acquireCustomerGate({
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
      true,
    );
    if (grant.kind !== 'ok') return grant;
    if (grant.value.granted) state.gate = { workflowId: gateId, held: true };
    return { kind: 'ok', value: grant.value.granted };
  }

  async function releaseGate(): Promise<void> {
    if (!state.gate?.held) return;
    state.gate.held = false;
    try {
      await getExternalWorkflowHandle(state.gate.workflowId).signal(releaseGateSignal, {
        holder: state.workflowId,
      });
    } catch (err) {
      // The gate already ended (its execution timeout): nothing is held any more.
      log.warn('customer gate release not delivered', { gate: state.gate.workflowId, err });
    }
  }

  async function createTicket(snapshot: CheckoutSnapshot, segment: Segment): Promise<void> {
    try {
      const { ticketId } = await gorgias.createSupportTicket({
        key: stepKey(state.shop, state.checkoutToken, 'ticket'),
        shop: state.shop,
        checkout: snapshot,
        segment,
      });
      state.ticketId = ticketId;
      state.outbox.push({
        kind: 'ticket_created',
        key: stepKey(state.shop, state.checkoutToken, 'ticket'),
        shop: state.shop,
        checkoutToken: state.checkoutToken,
        ticketId,
        at: nowIso(),
      });
    } catch (err) {
      // A hand-off that cannot be made must not stop the emails; it is logged for support.
      log.error('support ticket not created', { workflowId: state.workflowId, err });
    }
    state.ticketDone = true;
  }

  function revokeInput(code: IssuedCode) {
    return {
      key: stepKey(state.shop, state.checkoutToken, `touch-${code.touch}:revoke`),
      shop: state.shop,
      id: code.id,
      code: code.code,
    };
  }

  async function revokeOutstandingCodes(): Promise<void> {
    const now = Date.now();
    // An expired code cannot be used any more: revoking it would be a wasted call.
    const outstanding = state.codes.filter((c) => !c.revoked && Date.parse(c.expiresAt) > now);
    await Promise.all(
      outstanding.map(async (code) => {
        try {
          await shopifyCleanup.revokeDiscountCode(revokeInput(code));
          code.revoked = true;
        } catch (err) {
          log.error('discount code not revoked (it expires on its own)', {
            workflowId: state.workflowId,
            touch: code.touch,
            err,
          });
        }
      }),
    );
  }

  /**
   * Run a vendor activity. `interruptible`: an order (or deletion) that becomes known while it
   * is queued or running cancels it. Typed vendor refusals become outcomes; rejected credentials
   * pause the cart and retry later instead of failing it.
   */
  async function vendorStep<T>(work: () => Promise<T>, interruptible: boolean): Promise<Step<T>> {
    if (stopKnown()) return { kind: 'stopped' };
    try {
      if (!interruptible) return { kind: 'ok', value: await work() };
      return await untilStopped(work);
    } catch (err) {
      const type = failureType(err);
      if (type === FailureType.InvalidRecipient) return { kind: 'ended', outcome: 'invalid_email' };
      if (type === FailureType.CredentialsRejected) {
        log.error('vendor rejected our credentials; retrying later', { workflowId: state.workflowId, err });
        await waitUntil(
          Date.now() + CREDENTIALS_RETRY_MS,
          stopKnown,
          'vendor credentials rejected; retrying',
        );
        return { kind: 'retry' };
      }
      if (err instanceof ActivityFailure) {
        log.error('vendor refused the request', { workflowId: state.workflowId, err });
        return { kind: 'ended', outcome: 'vendor_refused' };
      }
      throw err;
    }
  }

  async function untilStopped<T>(work: () => Promise<T>): Promise<Step<T>> {
    const workScope = new CancellationScope();
    const running = workScope.run(work);
    const stopScope = new CancellationScope();
    const stopped = stopScope.run(() => condition(stopKnown));
    stopped.catch(() => undefined);
    try {
      const first = await Promise.race([running.then((value) => ({ value })), stopped.then(() => null)]);
      if (first) return { kind: 'ok', value: first.value };
      workScope.cancel();
      try {
        // WAIT_CANCELLATION_COMPLETED: if the vendor call finished anyway, we record it.
        return { kind: 'ok', value: await running };
      } catch (err) {
        if (isCancellation(err)) return { kind: 'stopped' };
        throw err;
      }
    } finally {
      stopScope.cancel();
    }
  }

  /**
   * Flush buffered bookkeeping, then wait until `deadline` or until `wake()` holds. Returns
   * true when woken. Flushing here, not at each change, is what keeps a cart's billable
   * actions low: one search-attribute upsert and one local-activity batch per wait at most.
   */
  async function waitUntil(deadline: number, wake: () => boolean, summary: string): Promise<boolean> {
    await flush();
    if (wake()) return true;
    const ms = deadline - Date.now();
    if (ms <= 0) return false;
    return await condition(wake, ms, { summary });
  }

  async function flush(): Promise<void> {
    syncSearchAttributes();
    setCurrentDetails(describeCart(state, policy));
    if (state.outbox.length === 0) return;
    const batch = state.outbox;
    state.outbox = [];
    const results = await Promise.allSettled(batch.map((event) => metrics.recordMetric(event)));
    const failed = batch.filter((_, i) => results[i]!.status === 'rejected');
    // Kept for the next flush: a metric is never dropped because the store hiccuped.
    if (failed.length > 0) state.outbox = [...failed, ...state.outbox];
  }

  function syncSearchAttributes(): void {
    const snapshot = state.snapshot;
    const priced = state.stage !== 'watching' && snapshot !== null && isDecimal(snapshot.totalPrice);
    const wanted: SearchAttributeValues = {
      shop: state.shop,
      stage: state.stage,
      segment: state.segment,
      value: priced ? Number(snapshot.totalPrice) : state.searchAttributes.value,
      currency: priced ? snapshot.currency : state.searchAttributes.currency,
      nextTouch: state.stage === 'sequence' ? state.touches.length + 1 : null,
      outcome: state.outcome,
    };
    const had = state.searchAttributes;
    const changes: SearchAttributeUpdatePair[] = [];
    if (wanted.shop !== had.shop) changes.push({ key: CartShop, value: wanted.shop });
    if (wanted.stage !== had.stage) changes.push({ key: CartStage, value: wanted.stage });
    if (wanted.segment !== had.segment) changes.push({ key: CartSegment, value: wanted.segment });
    if (wanted.value !== had.value) changes.push({ key: CartValue, value: wanted.value });
    if (wanted.currency !== had.currency) changes.push({ key: CartCurrency, value: wanted.currency });
    if (wanted.nextTouch !== had.nextTouch) changes.push({ key: CartNextTouch, value: wanted.nextTouch });
    if (wanted.outcome !== had.outcome) changes.push({ key: CartOutcome, value: wanted.outcome });
    if (changes.length === 0) return;
    upsertSearchAttributes(changes);
    state.searchAttributes = wanted;
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= policy.continueAsNewAfterEvents;
  }
}

// ---- pure helpers ------------------------------------------------------------------------------

function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

/** The `ApplicationFailure.type` a vendor activity failed with, if any. */
function failureType(err: unknown): string | null {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function snapshotProblem(s: CheckoutSnapshot, token: string): string | null {
  if (!s || typeof s !== 'object') return 'not an object';
  if (s.token !== token) return `token ${String(s.token)} is not this checkout's`;
  if (!isTime(s.updatedAt)) return 'updatedAt is not a timestamp';
  if (!Array.isArray(s.lineItems)) return 'lineItems is not a list';
  if (typeof s.totalPrice !== 'string' || !isDecimal(s.totalPrice))
    return 'totalPrice is not a decimal string';
  if (typeof s.currency !== 'string' || !/^[A-Z]{3}$/.test(s.currency)) return 'currency is not an ISO code';
  if (s.completedAt !== null && !isTime(s.completedAt)) return 'completedAt is not a timestamp';
  return null;
}

function orderProblem(o: OrderPlaced, state: CartState): string | null {
  if (!o || typeof o !== 'object') return 'not an object';
  if (typeof o.orderId !== 'string' || o.orderId === '') return 'orderId missing';
  if (!isTime(o.at)) return 'at is not a timestamp';
  if (typeof o.totalPrice !== 'string' || !isDecimal(o.totalPrice))
    return 'totalPrice is not a decimal string';
  const cartToken = state.snapshot?.cartToken ?? null;
  const mine =
    o.checkoutToken === state.checkoutToken ||
    (o.checkoutToken == null && (o.cartToken == null || cartToken === null || o.cartToken === cartToken));
  if (!mine) return `order ${o.orderId} belongs to another checkout`;
  return null;
}

function initialState(input: CartRecoveryInput): CartState {
  const shop = normaliseShopDomain(input.shop);
  const given = workflowInfo().typedSearchAttributes;
  return {
    version: 1,
    shop,
    checkoutToken: input.checkoutToken.trim(),
    workflowId: workflowInfo().workflowId ?? cartWorkflowId(shop, input.checkoutToken),
    snapshot: null,
    lastActivityAt: null,
    activitySeq: 0,
    order: null,
    completedAt: null,
    deletedAt: null,
    consents: [],
    stage: 'watching',
    abandonedAt: null,
    firstAbandonedAt: null,
    facts: null,
    segment: null,
    segmentDecidedAt: null,
    controlGroup: null,
    abandonedRecorded: false,
    gate: null,
    ticketDone: false,
    ticketId: null,
    touches: [],
    codes: [],
    nextTouch: null,
    outcome: null,
    outbox: [],
    // What the starter already set (sendToCart sets shop and stage at start, which is free).
    searchAttributes: {
      shop: given.get(CartShop) ?? null,
      stage: (given.get(CartStage) as Stage | undefined) ?? null,
      segment: null,
      value: null,
      currency: null,
      nextTouch: null,
      outcome: null,
    },
  };
}

export function statusOf(state: CartState): CartRecoveryStatus {
  return {
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    stage: state.stage,
    segment: state.segment,
    controlGroup: state.controlGroup ?? false,
    touches: state.touches,
    nextTouchDueAt: state.stage === 'sequence' ? (state.nextTouch?.dueAt ?? null) : null,
    lastActivityAt: state.lastActivityAt,
    abandonedAt: state.abandonedAt,
    ticketId: state.ticketId,
    outcome: state.outcome,
    order: state.order,
  };
}

/** The Web UI's "current details": what a merchant needs at a glance, no personal data. */
export function describeCart(state: CartState, policy: RecoveryPolicy): string {
  const s = state.snapshot;
  const items = s ? s.lineItems.reduce((n, l) => n + l.quantity, 0) : 0;
  const lines = [
    `**Cart** ${s ? `${items} item(s), ${s.totalPrice} ${s.currency}` : 'no checkout snapshot yet'}`,
    `**Stage** ${state.stage}${state.outcome ? ` (${state.outcome})` : ''}`,
    `**Segment** ${state.segment ?? 'not decided'}${state.controlGroup ? ' (control group: no emails)' : ''}`,
    `**Touches** ${state.touches.length}/${policy.touchDelaysMs.length}` +
      (state.nextTouch && state.stage === 'sequence'
        ? `, touch ${state.nextTouch.touch} due ${state.nextTouch.dueAt}`
        : ''),
    `**Last activity** ${state.lastActivityAt ?? 'none'}`,
  ];
  if (state.ticketId) lines.push(`**Support ticket** ${state.ticketId}`);
  if (state.order)
    lines.push(`**Order** ${state.order.orderId} (${state.order.totalPrice} ${state.order.currency})`);
  return lines.join('\n');
}

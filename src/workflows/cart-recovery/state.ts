/**
 * What a cart workflow knows, as plain JSON carried whole through continue-as-new, and what the
 * Web UI and the status query show of it. The read-only questions the steps ask of the state
 * live in `questions.ts`.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { CustomerFacts, MetricEvent } from '../contracts';
import { cartWorkflowId, normaliseShopDomain } from '../ids';
import type {
  CartRecoveryInput,
  CartRecoveryStatus,
  CheckoutSnapshot,
  ConsentChanged,
  OrderPlaced,
  Outcome,
  Stage,
  TouchRecord,
} from '../messages';
import type { RecoveryPolicy, Segment } from '../policy';
import { CartShop, CartStage } from '../search-attributes';

export interface IssuedCode {
  touch: number;
  id: string;
  code: string;
  expiresAt: string;
  revoked: boolean;
  /** The percent it was issued for (absent in carts from before it was kept). */
  percent?: number;
}

/** The search attributes last written, so that only changes are upserted (each is an action). */
export interface SearchAttributeValues {
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
  /**
   * `customerKey` of the address the facts (and the gate) were read for; a changed checkout
   * email re-enriches and re-acquires the gate. Absent in carts from before it was kept.
   */
  factsFor?: string;
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

export function initialState(input: CartRecoveryInput): CartState {
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

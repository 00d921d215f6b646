/**
 * The webhook relay's core, independent of HTTP: verify a Shopify delivery, drop repeats, parse
 * and route it, hand the signals to Temporal, and say what to answer. The express router
 * (`router.ts`) and the dead-letter replay command both drive it.
 *
 * The answer is 200 only after Temporal durably accepted every signal of the delivery (or the
 * delivery was deliberately dropped or dead-lettered); any failure to reach Temporal or the
 * database answers 503 so that Shopify retries: nothing is lost, and repeats are harmless
 * because the delivery key is recorded only after the hand-over and the workflow ignores
 * signals it has already applied.
 *
 * Shopify's mandatory compliance webhooks come to the same endpoint, signed the same way:
 * `customers/redact` stops the customer's open carts and erases what the app holds about them,
 * `shop/redact` erases everything about the shop, `customers/data_request` is recorded for the
 * merchant to answer (`npm run customer-data`). Their answer is 200 only once the erasure or
 * the record is committed.
 */
import { createHash } from 'node:crypto';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { ZodError } from 'zod';
import type { SignalDefinition } from '@temporalio/common';
import { sendToCart, type CartStartOptions, type SendResult } from '../../temporal/cart-client';
import { normaliseShopDomain } from '../../workflows/ids';
import {
  cartActivitySignal,
  checkoutDeletedSignal,
  checkoutUpdatedSignal,
  consentChangedSignal,
  orderPlacedSignal,
} from '../../workflows/messages';
import type { ConsentChanged } from '../../workflows/messages';
import type { MetricsStore } from '../../metrics/store';
import { logger } from '../../logger';
import { maxWorkflowLifetimeMs } from './policy';
import {
  CartPayload,
  CheckoutDeletePayload,
  CheckoutPayload,
  ConsentPayload,
  CustomerDataRequestPayload,
  CustomerRedactPayload,
  ShopRedactPayload,
  describeIssues,
  OrderPayload,
  toCartActivity,
  toCheckoutDeleted,
  toCheckoutSnapshot,
  toConsentChanged,
  toOrderPlaced,
} from './shopify-payloads';
import { secretsForShop, verifyShopifyHmac, type WebhookSecrets } from './signature';
import {
  DEAD_LETTER_OUTCOME,
  type CheckoutIndexEntry,
  type ComplianceCustomer,
  type DataRequest,
  type DeadLetter,
  type ErasedRows,
  type RelayStore,
} from './store';
import type { RelayMetrics } from './metrics';

/** The topics the relay routes that a shop subscribes to; `subscribe-webhooks` registers exactly these. */
export const RELAY_TOPICS = [
  'checkouts/create',
  'checkouts/update',
  'checkouts/delete',
  'carts/create',
  'carts/update',
  'orders/create',
  'orders/paid',
  'customers_email_marketing_consent/update',
] as const;

/**
 * Shopify's mandatory privacy webhooks, also routed by the relay. They cannot be subscribed
 * through the Admin API: the app's configuration names them (docs/relay.md).
 */
export const COMPLIANCE_TOPICS = ['customers/data_request', 'customers/redact', 'shop/redact'] as const;

export type RelayTopic = (typeof RELAY_TOPICS)[number] | (typeof COMPLIANCE_TOPICS)[number];
const ROUTED_TOPICS: readonly string[] = [...RELAY_TOPICS, ...COMPLIANCE_TOPICS];

export type DeliveryOutcome =
  | 'accepted' // Temporal accepted the signal(s)
  | 'closed' // every target workflow had already closed: nothing more to do
  | 'duplicate' // this delivery was handled before
  | 'no_open_checkout' // cart activity, deletion or consent change for no open checkout
  | 'unmatched_order' // an order carrying neither a checkout token nor a known cart token
  | 'ignored_topic' // a topic the relay does not use
  | 'erased' // a compliance erasure (customers/redact, shop/redact) is committed
  | 'recorded' // a customer's data request is kept for the merchant to answer
  | 'dead_letter' // genuine but unusable: stored for replay
  | 'unauthorized' // missing or wrong signature
  | 'too_large' // body over WEBHOOK_BODY_LIMIT
  | 'unavailable'; // Temporal or the database could not be reached: Shopify retries

export interface RelayAnswer {
  status: number;
  outcome: DeliveryOutcome;
  body: Record<string, unknown>;
}

export interface RelaySettings extends WebhookSecrets {
  temporalTimeoutMs: number;
  dedupeRetentionMs: number;
}

export interface RelayDeps {
  client: Client;
  store: RelayStore;
  settings: RelaySettings;
  /** Task queues and the recovery policy of workflows the relay starts. */
  start: CartStartOptions;
  metrics: RelayMetrics;
  /** Compliance erasures reach the metrics store's rows too (same database in production). */
  metricsStore: MetricsStore;
  /** The keyed hash under which the metrics store knows a recipient (src/metrics/links.ts). */
  recipientHash: (email: string) => string;
  now?: () => Date;
}

/** What the relay knows about one delivery, from its headers. */
interface Envelope {
  topic: string;
  shop: string;
  /** `X-Shopify-Webhook-Id`, or a hash of topic, shop and body when the header is missing. */
  deliveryKey: string;
  triggeredAt: string | null;
  /** Headers kept with a dead letter: every `x-shopify-*` header except the signature. */
  headers: Record<string, string>;
  rawBody: Buffer;
}

interface Target<P = unknown> {
  checkoutToken: string;
  signal: SignalDefinition<[P]>;
  payload: P;
  /** Routing keys learnt from this delivery, remembered once Temporal accepted it. */
  remember: Omit<CheckoutIndexEntry, 'shop' | 'checkoutToken'>;
}

type Plan =
  | { kind: 'signals'; targets: Target[] }
  | { kind: 'drop'; outcome: DeliveryOutcome; why: string }
  | { kind: 'dead_letter'; reason: string }
  | { kind: 'erase'; erasure: Erasure; targets: Target[] }
  | { kind: 'data_request'; request: Omit<DataRequest, 'receivedAt'> };

/** What a compliance webhook asks to erase: one customer of the shop, or the whole shop. */
type Erasure = { of: 'customer'; customer: ComplianceCustomer; orderIds: string[] } | { of: 'shop' };

const UNAVAILABLE: RelayAnswer = {
  status: 503,
  outcome: 'unavailable',
  body: { error: 'temporarily unable to hand the webhook over; retry later' },
};

const NO_KEYS = { checkoutId: null, cartToken: null, customerId: null, email: null };
const PRUNE_EVERY_MS = 3_600_000;
/** Shop or topic of a dead letter whose delivery lacked the header. */
const NONE = '(none)';

/** Thrown inside the hand-over when Temporal refuses the request itself (not an outage). */
class RejectedByTemporal extends Error {}

export class WebhookRelay {
  private readonly now: () => Date;
  private lastPrune = 0;

  constructor(private readonly deps: RelayDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** A delivery as received over HTTP. `headers` must have lower-case names (node's do). */
  async receive(
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
  ): Promise<RelayAnswer> {
    const started = performance.now();
    const header = (name: string) => {
      const v = headers[name];
      return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
    };
    const topic = header('x-shopify-topic') ?? '';
    const shopHeader = header('x-shopify-shop-domain');
    const shop = shopHeader ? normaliseShopDomain(shopHeader) : '';
    let answer: RelayAnswer;
    if (
      !verifyShopifyHmac(rawBody, header('x-shopify-hmac-sha256'), secretsForShop(this.deps.settings, shop))
    ) {
      logger.warn('webhook refused: missing or wrong signature', { shop, topic: topic.slice(0, 80) });
      answer = {
        status: 401,
        outcome: 'unauthorized',
        body: { error: 'missing or invalid X-Shopify-Hmac-Sha256' },
      };
    } else {
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (name.startsWith('x-shopify-') && name !== 'x-shopify-hmac-sha256' && value !== undefined)
          kept[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const envelope: Envelope = {
        topic,
        shop,
        deliveryKey:
          header('x-shopify-webhook-id') ??
          `sha256:${createHash('sha256').update(`${topic}\n${shop}\n`).update(rawBody).digest('hex')}`,
        triggeredAt: isoOrNull(header('x-shopify-triggered-at')),
        headers: kept,
        rawBody,
      };
      answer = await this.withinBudget(this.process(envelope, undefined), envelope);
    }
    this.deps.metrics.observe(topic, answer.outcome, (performance.now() - started) / 1000);
    this.maybePrune();
    return answer;
  }

  /**
   * Shopify counts an answer after 5 s as a failure. Temporal calls carry their own deadline,
   * but a stalled database does not: past the budget answer 503 (the delivery is retried and,
   * should the late work still finish, the retry is a harmless duplicate).
   */
  private async withinBudget(work: Promise<RelayAnswer>, envelope: Envelope): Promise<RelayAnswer> {
    const budgetMs = Math.min(4_800, this.deps.settings.temporalTimeoutMs + 700);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<RelayAnswer>((resolve) => {
      timer = setTimeout(() => {
        logger.error('webhook not answered within its budget: answering 503, Shopify will retry', {
          shop: envelope.shop,
          topic: envelope.topic,
          deliveryKey: envelope.deliveryKey,
          budgetMs,
        });
        resolve(UNAVAILABLE);
      }, budgetMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Answer for a body over the limit (the router rejects it before reading it all). */
  tooLarge(topic: string | undefined, limitBytes: number): RelayAnswer {
    const answer: RelayAnswer = {
      status: 413,
      outcome: 'too_large',
      body: { error: `body larger than ${limitBytes} bytes (WEBHOOK_BODY_LIMIT)` },
    };
    this.deps.metrics.observe(topic ?? '', answer.outcome, 0);
    logger.warn('webhook refused: body over the limit', { topic, limitBytes });
    return answer;
  }

  /**
   * Hand a stored dead letter over again (after a fix). Its signature was verified when it was
   * received. The letter stays pending when it is still unusable or Temporal is unreachable.
   */
  async replay(letter: DeadLetter): Promise<RelayAnswer> {
    // '(none)' stands for a missing header in the letter: still missing on replay.
    const given = (v: string) => (v === NONE ? '' : v);
    const envelope: Envelope = {
      topic: given(letter.topic),
      shop: given(letter.shop),
      deliveryKey: letter.deliveryKey,
      triggeredAt: isoOrNull(letter.headers['x-shopify-triggered-at']),
      headers: letter.headers,
      rawBody: letter.rawBody,
    };
    const answer = await this.process(envelope, letter);
    // Handed over (or handled since by a later delivery): the letter is done.
    if (answer.status === 200 && answer.outcome !== 'dead_letter')
      await this.deps.store.markReplayed(letter.id, answer.outcome, this.now().toISOString());
    this.deps.metrics.replayed(answer.outcome);
    return answer;
  }

  private async process(envelope: Envelope, replaying: DeadLetter | undefined): Promise<RelayAnswer> {
    const { store } = this.deps;
    const log = { shop: envelope.shop, topic: envelope.topic, deliveryKey: envelope.deliveryKey };
    try {
      const previous = await store.deliveryOutcome(envelope.deliveryKey);
      if (previous !== undefined && !(replaying && previous === DEAD_LETTER_OUTCOME)) {
        logger.debug('webhook repeated: already handled', { ...log, previous });
        return ok('duplicate', { previous });
      }
      const plan = await this.plan(envelope);
      if (plan.kind === 'dead_letter') return await this.deadLetter(envelope, plan.reason, replaying);
      if (plan.kind === 'drop') {
        await store.recordDelivery({ ...envelope, outcome: plan.outcome, at: this.now().toISOString() });
        // Cart activity without a checkout is the common case (browsing): not worth a line each.
        logger[plan.outcome === 'no_open_checkout' ? 'debug' : 'info'](
          'webhook acknowledged without a signal',
          {
            ...log,
            outcome: plan.outcome,
            why: plan.why,
          },
        );
        return ok(plan.outcome, { detail: plan.why });
      }
      if (plan.kind === 'data_request') {
        const at = this.now().toISOString();
        await store.recordDataRequest(
          { ...plan.request, receivedAt: at },
          { ...envelope, outcome: 'recorded', at },
        );
        logger.info('customer data request recorded; answer it with npm run customer-data', {
          ...log,
          customerId: plan.request.customerId,
          dataRequestId: plan.request.dataRequestId,
        });
        return ok('recorded', { dataRequestId: plan.request.dataRequestId });
      }

      let results: SendResult[];
      try {
        results = plan.targets.length > 0 ? await this.handOver(envelope.shop, plan.targets) : [];
      } catch (err) {
        if (err instanceof RejectedByTemporal) {
          // Usually a cluster set-up problem (say, search attributes not registered): every
          // delivery will land here until it is fixed, then `npm run dead-letters -- replay`.
          logger.error('Temporal refused the signal; the delivery is kept as a dead letter', {
            ...log,
            reason: err.message,
          });
          return await this.deadLetter(envelope, err.message, replaying);
        }
        throw err;
      }
      if (plan.kind === 'erase') return await this.erase(envelope, plan.erasure, results);
      const at = this.now().toISOString();
      const accepted: CheckoutIndexEntry[] = [];
      const closed: string[] = [];
      for (const [i, result] of results.entries()) {
        const target = plan.targets[i]!;
        if (result.accepted)
          accepted.push({ shop: envelope.shop, checkoutToken: target.checkoutToken, ...target.remember });
        else closed.push(target.checkoutToken);
      }
      const outcome: DeliveryOutcome = accepted.length > 0 ? 'accepted' : 'closed';
      await store.recordHandOver({ ...envelope, outcome, at }, accepted, closed);
      // At Shopify volumes a line per accepted delivery is noise (/metrics counts them).
      logger[outcome === 'accepted' ? 'debug' : 'info']('webhook handed over', {
        ...log,
        outcome,
        workflows: results.map((r) => ({ workflowId: r.workflowId, accepted: r.accepted })),
      });
      return ok(outcome, {
        workflows: results.map((r) => ({ workflowId: r.workflowId, accepted: r.accepted })),
      });
    } catch (err) {
      logger.error('webhook not handed over: Temporal or the database unavailable; Shopify will retry', {
        ...log,
        err,
        cause: grpcError(err)?.details,
      });
      return UNAVAILABLE;
    }
  }

  /**
   * After the customer's (or shop's) open carts accepted the signal that stops them: erase the
   * metrics rows, then the relay's rows together with the delivery record. A failure on the way
   * throws (503, Shopify retries); every step is idempotent, so the retry finishes the job.
   */
  private async erase(envelope: Envelope, erasure: Erasure, results: SendResult[]): Promise<RelayAnswer> {
    const { store, metricsStore, recipientHash } = this.deps;
    const delivery = { ...envelope, outcome: 'erased', at: this.now().toISOString() };
    let metricsRows: number;
    let relayRows: ErasedRows;
    if (erasure.of === 'customer') {
      // The metrics store knows recipients by keyed email hash only: no email, nothing to find.
      const email = erasure.customer.email;
      metricsRows = email ? await metricsStore.redactRecipient(recipientHash(email)) : 0;
      metricsRows += await metricsStore.redactOrders(envelope.shop, erasure.orderIds);
      relayRows = await store.eraseCustomer(envelope.shop, erasure.customer, delivery);
    } else {
      metricsRows = await metricsStore.eraseShop(envelope.shop);
      relayRows = await store.eraseShop(envelope.shop, delivery);
    }
    const workflows = results.map((r) => ({ workflowId: r.workflowId, accepted: r.accepted }));
    const erased = { ...relayRows, metrics: metricsRows };
    logger.info(`${erasure.of === 'customer' ? 'customer' : 'shop'} data erased`, {
      shop: envelope.shop,
      topic: envelope.topic,
      deliveryKey: envelope.deliveryKey,
      customerId: erasure.of === 'customer' ? erasure.customer.customerId : undefined,
      erased,
      workflows,
    });
    return ok('erased', { erased, workflows });
  }

  private async deadLetter(
    envelope: Envelope,
    reason: string,
    replaying: DeadLetter | undefined,
  ): Promise<RelayAnswer> {
    const log = { shop: envelope.shop, topic: envelope.topic, deliveryKey: envelope.deliveryKey, reason };
    if (replaying) {
      await this.deps.store.markReplayFailed(replaying.id, reason);
      logger.warn('dead letter replayed, still unusable', { ...log, id: replaying.id });
    } else {
      const stored = await this.deps.store.addDeadLetter({
        deliveryKey: envelope.deliveryKey,
        shop: envelope.shop || NONE,
        topic: envelope.topic || NONE,
        reason,
        headers: envelope.headers,
        rawBody: envelope.rawBody,
        receivedAt: this.now().toISOString(),
      });
      if (stored) this.deps.metrics.deadLettered(envelope.topic);
      logger.warn('webhook dead-lettered: genuine but unusable; replay it after a fix', log);
    }
    return ok('dead_letter', { reason });
  }

  /** Parse, validate and route a delivery; database look-ups only, no side effects. */
  private async plan(e: Envelope): Promise<Plan> {
    if (!e.topic) return { kind: 'dead_letter', reason: 'missing X-Shopify-Topic header' };
    if (!e.shop) return { kind: 'dead_letter', reason: 'missing X-Shopify-Shop-Domain header' };
    if (!ROUTED_TOPICS.includes(e.topic))
      return { kind: 'drop', outcome: 'ignored_topic', why: `topic ${e.topic} is not used by the relay` };
    let json: unknown;
    try {
      json = JSON.parse(e.rawBody.toString('utf8'));
    } catch (err) {
      // V8's message quotes the start of the body, which may be an email: keep only the position.
      const position = /position (\d+)/.exec((err as Error).message)?.[1];
      return {
        kind: 'dead_letter',
        reason: `body is not JSON${position ? ` (error at character ${position})` : ''}`,
      };
    }
    const topic = e.topic as RelayTopic;
    const at = e.triggeredAt ?? this.now().toISOString();
    const since = new Date(
      this.now().getTime() - maxWorkflowLifetimeMs(this.deps.start.policy),
    ).toISOString();
    const open = (by: Parameters<RelayStore['openCheckouts']>[1]) =>
      this.deps.store.openCheckouts(e.shop, by, since);

    switch (topic) {
      case 'checkouts/create':
      case 'checkouts/update': {
        const parsed = CheckoutPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const snapshot = toCheckoutSnapshot(parsed.data);
        return signals([
          target(snapshot.token, checkoutUpdatedSignal, snapshot, {
            checkoutId: parsed.data.id ?? null,
            cartToken: snapshot.cartToken,
            customerId: snapshot.customerId,
            email: snapshot.email,
          }),
        ]);
      }
      case 'carts/create':
      case 'carts/update': {
        const parsed = CartPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const activity = toCartActivity(parsed.data, at);
        const tokens = await open({ cartToken: activity.cartToken });
        if (tokens.length === 0)
          return { kind: 'drop', outcome: 'no_open_checkout', why: 'no open checkout has this cart token' };
        return signals(tokens.map((t) => target(t, cartActivitySignal, activity, NO_KEYS)));
      }
      case 'orders/create':
      case 'orders/paid': {
        const parsed = OrderPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const order = toOrderPlaced(parsed.data, at);
        // The checkout token first: it starts the workflow when the order overtook every
        // checkout webhook. Then every other open checkout of the same cart, which this order
        // also settles (a shopper who restarted checkout must not be chased for a paid cart).
        const tokens = new Set<string>();
        if (order.checkoutToken) tokens.add(order.checkoutToken);
        if (order.cartToken) for (const t of await open({ cartToken: order.cartToken })) tokens.add(t);
        if (tokens.size === 0)
          return {
            kind: 'drop',
            outcome: 'unmatched_order',
            why: order.cartToken
              ? 'no open checkout has the order cart token'
              : 'order without checkout or cart token',
          };
        return signals(
          [...tokens].map((t) =>
            t === order.checkoutToken
              ? target(t, orderPlacedSignal, order, { ...NO_KEYS, cartToken: order.cartToken })
              : // To a sibling the order is one for its cart, paid through another checkout: the
                // workflow accepts an order by cart token only when it names no checkout.
                target(t, orderPlacedSignal, { ...order, checkoutToken: null }, NO_KEYS),
          ),
        );
      }
      case 'checkouts/delete': {
        const parsed = CheckoutDeletePayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const p = parsed.data;
        // Only a checkout we know is signalled: a deletion must never start a workflow.
        let tokens = p.token ? await open({ checkoutToken: p.token }) : [];
        if (tokens.length === 0 && p.id) tokens = await open({ checkoutId: p.id });
        if (tokens.length === 0 && p.cart_token) {
          // By cart token only when unambiguous: the cart may have other, live checkouts.
          const byCart = await open({ cartToken: p.cart_token });
          if (byCart.length === 1) tokens = byCart;
        }
        if (tokens.length === 0)
          return { kind: 'drop', outcome: 'no_open_checkout', why: 'no open checkout matches the deletion' };
        return signals(
          tokens.map((t) => target(t, checkoutDeletedSignal, toCheckoutDeleted(p, at), NO_KEYS)),
        );
      }
      case 'customers_email_marketing_consent/update': {
        const parsed = ConsentPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const consent = toConsentChanged(parsed.data, at);
        const tokens = await open({ customerId: consent.customerId, email: consent.email });
        if (tokens.length === 0)
          return { kind: 'drop', outcome: 'no_open_checkout', why: 'the customer has no open checkout' };
        return signals(tokens.map((t) => target(t, consentChangedSignal, consent, NO_KEYS)));
      }
      case 'customers/redact': {
        const parsed = CustomerRedactPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const otherShop = shopMismatch(e.shop, parsed.data.shop_domain);
        if (otherShop) return otherShop;
        const customer = { customerId: parsed.data.customer.id, email: parsed.data.customer.email };
        // A 'redacted' consent is an explicit refusal (src/workflows/eligibility.ts): the
        // sequence stops at its next step and sends nothing more.
        const redacted: ConsentChanged = { ...customer, state: 'redacted', at };
        const tokens = await open(customer);
        return {
          kind: 'erase',
          erasure: { of: 'customer', customer, orderIds: parsed.data.orders_to_redact },
          targets: tokens.map((t) => target(t, consentChangedSignal, redacted, NO_KEYS)),
        };
      }
      case 'shop/redact': {
        const parsed = ShopRedactPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const otherShop = shopMismatch(e.shop, parsed.data.shop_domain);
        if (otherShop) return otherShop;
        // A consent signal must name each cart's customer, and the index keeps a guest's email
        // only hashed; a deletion ends any open cart without naming anyone (outcome `deleted`).
        const tokens = await this.deps.store.openCheckoutsOfShop(e.shop, since);
        return {
          kind: 'erase',
          erasure: { of: 'shop' },
          targets: tokens.map((t) => target(t, checkoutDeletedSignal, { at }, NO_KEYS)),
        };
      }
      case 'customers/data_request': {
        const parsed = CustomerDataRequestPayload.safeParse(json);
        if (!parsed.success) return invalid(topic, parsed.error);
        const otherShop = shopMismatch(e.shop, parsed.data.shop_domain);
        if (otherShop) return otherShop;
        const p = parsed.data;
        return {
          kind: 'data_request',
          request: {
            shop: e.shop,
            dataRequestId: p.data_request.id,
            customerId: p.customer.id,
            email: p.customer.email,
            ordersRequested: p.orders_requested,
          },
        };
      }
    }
  }

  /** Every target's signalWithStart, under one deadline below Shopify's 5 s. */
  private async handOver(shop: string, targets: Target[]): Promise<SendResult[]> {
    const { client, start, settings } = this.deps;
    const deadline = Date.now() + settings.temporalTimeoutMs;
    try {
      return await client.connection.withDeadline(deadline, () =>
        Promise.all(
          targets.map((t) =>
            sendToCart(client, start, { shop, checkoutToken: t.checkoutToken }, t.signal, t.payload),
          ),
        ),
      );
    } catch (err) {
      // INVALID_ARGUMENT will fail the same way on every retry: keep the delivery as a dead
      // letter instead of answering 503 until Shopify removes the subscription.
      const grpc = grpcError(err);
      if (grpc && Number(grpc.code) === GRPC_INVALID_ARGUMENT)
        throw new RejectedByTemporal(`Temporal refused the request: ${grpc.details || grpc.message}`);
      throw err;
    }
  }

  /** Forget old delivery keys and stale index entries, at most hourly, off the request path. */
  private maybePrune() {
    const nowMs = this.now().getTime();
    if (nowMs - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = nowMs;
    const deliveriesBefore = new Date(nowMs - this.deps.settings.dedupeRetentionMs).toISOString();
    const checkoutsBefore = new Date(nowMs - maxWorkflowLifetimeMs(this.deps.start.policy)).toISOString();
    this.deps.store.prune(deliveriesBefore, checkoutsBefore).then(
      (removed) => logger.debug('relay bookkeeping pruned', removed),
      (err: unknown) => logger.warn('relay bookkeeping prune failed (retried in an hour)', { err }),
    );
  }
}

const GRPC_INVALID_ARGUMENT = 3;

/** The gRPC error under the SDK's wrappers (ServiceError keeps it as `cause`). */
function grpcError(err: unknown) {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e;
  }
  return undefined;
}

function target<P>(
  checkoutToken: string,
  signal: SignalDefinition<[P]>,
  payload: P,
  remember: Target['remember'],
): Target {
  return { checkoutToken, signal, payload, remember };
}

function signals(targets: Target[]): Plan {
  return { kind: 'signals', targets };
}

function invalid(topic: string, error: ZodError): Plan {
  return { kind: 'dead_letter', reason: `invalid ${topic} payload: ${describeIssues(error)}` };
}

/**
 * A compliance payload naming another shop than its header: erasing under the header's shop
 * would miss the customer (or erase the wrong shop), so keep it for a look instead.
 */
function shopMismatch(headerShop: string, payloadShop: string | null): Plan | undefined {
  if (payloadShop === null || normaliseShopDomain(payloadShop) === headerShop) return undefined;
  return { kind: 'dead_letter', reason: 'shop_domain in the payload differs from X-Shopify-Shop-Domain' };
}

function ok(outcome: DeliveryOutcome, extra: Record<string, unknown>): RelayAnswer {
  return { status: 200, outcome, body: { status: outcome, ...extra } };
}

function isoOrNull(value: string | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

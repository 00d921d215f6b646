/**
 * The webhook relay's core, independent of HTTP: verify a Shopify delivery, drop repeats, parse
 * and route it (`routes.ts`, one route per topic), hand the signals to Temporal, and say what to
 * answer. The express route (`src/api/webhooks.ts`) and the dead-letter replay command drive it.
 *
 * The answer is 200 only after Temporal durably accepted every signal of the delivery (or the
 * delivery was deliberately dropped or dead-lettered); any failure to reach Temporal or the
 * database answers 503 so that Shopify retries: nothing is lost, and repeats are harmless
 * because the delivery key is recorded only after the hand-over and the workflow ignores
 * signals it has already applied.
 *
 * Compliance webhooks (`compliance.ts`) are routed the same way; their answer is 200 only once
 * the erasure or the record is committed.
 */
import { createHash } from 'node:crypto';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { sendToCart, type CartStartOptions, type SendResult } from '../temporal/cart-client';
import { normaliseShopDomain } from '../workflows/ids';
import { logger } from '../logger';
import { erase, type ErasureStores } from './compliance';
import type { RelayMetrics } from './metrics';
import { ok, type DeliveryOutcome, type Envelope, type Plan, type RelayAnswer, type Target } from './plan';
import { maxWorkflowLifetimeMs } from './policy';
import { routeOf } from './routes';
import { secretsForShop, verifyShopifyHmac, type WebhookSecrets } from './signature';
import { DEAD_LETTER_OUTCOME, type CheckoutIndexEntry, type DeadLetter } from './store';

export interface RelaySettings extends WebhookSecrets {
  temporalTimeoutMs: number;
  dedupeRetentionMs: number;
}

export interface RelayDeps extends ErasureStores {
  client: Client;
  settings: RelaySettings;
  /** Task queues and the recovery policy of workflows the relay starts. */
  start: CartStartOptions;
  metrics: RelayMetrics;
  now?: () => Date;
}

const UNAVAILABLE: RelayAnswer = {
  status: 503,
  outcome: 'unavailable',
  body: { error: 'temporarily unable to hand the webhook over; retry later' },
};

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
      if (plan.kind === 'erase')
        return await erase(this.deps, envelope, plan.erasure, results, this.now().toISOString());
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
    const route = routeOf(e.topic);
    if (!route)
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
    const { store } = this.deps;
    const since = new Date(
      this.now().getTime() - maxWorkflowLifetimeMs(this.deps.start.policy),
    ).toISOString();
    return route(json, {
      topic: e.topic,
      shop: e.shop,
      at: e.triggeredAt ?? this.now().toISOString(),
      open: (by) => store.openCheckouts(e.shop, by, since),
      openOfShop: () => store.openCheckoutsOfShop(e.shop, since),
    });
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

function isoOrNull(value: string | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

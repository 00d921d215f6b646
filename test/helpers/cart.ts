/**
 * Test plumbing for the cart-recovery workflow: in-memory vendor doubles of the activity
 * contracts (idempotent by business key, like the real vendors), snapshot builders, and a
 * worker/starter pair that runs against the real time-skipping server.
 *
 * Every vendor activity runs on the test's own task queue, so one worker serves all of them.
 */
/* eslint-disable @typescript-eslint/require-await -- the doubles answer at once, as a vendor would */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  FailureType,
  type CustomerFacts,
  type DiscountCode,
  type MetricEvent,
  type RecoveryEmail,
  type SupportTicketInput,
  type VariantFacts,
} from '../../src/workflows/contracts';
import { createActivities, type ActivityGroups } from '../../src/activities';
import { createGateActivities } from '../../src/activities/customer-gate';
import { sendToCart } from '../../src/temporal/cart-client';
import { cartWorkflowId } from '../../src/workflows/ids';
import {
  checkoutUpdatedSignal,
  statusQuery,
  type CartRecoveryStatus,
  type CheckoutSnapshot,
  type LineItem,
  type OrderPlaced,
} from '../../src/workflows/messages';
import { DEFAULT_POLICY, type RecoveryPolicy } from '../../src/workflows/policy';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The default policy without the parts that depend on the wall clock of the test run. */
export const TEST_POLICY: RecoveryPolicy = {
  ...DEFAULT_POLICY,
  timerJitterMs: 0,
  quietHours: { startHour: 0, endHour: 0 },
};

export const SHOP = 'test-shop.myshopify.com';

export function lineItem(over: Partial<LineItem> = {}): LineItem {
  return {
    key: 'line-1',
    productId: 'gid://shopify/Product/1',
    variantId: 'gid://shopify/ProductVariant/11',
    title: 'Linen shirt',
    variantTitle: 'M / Blue',
    quantity: 1,
    price: '60.00',
    linePrice: '60.00',
    sku: 'LS-M-BLUE',
    ...over,
  };
}

export function snapshot(token: string, at: number, over: Partial<CheckoutSnapshot> = {}): CheckoutSnapshot {
  return {
    token,
    cartToken: `cart-${token}`,
    email: 'ada@example.com',
    customerId: 'gid://shopify/Customer/7',
    firstName: 'Ada',
    lastName: 'Lovelace',
    acceptsMarketing: true,
    lineItems: [lineItem()],
    subtotalPrice: '60.00',
    totalPrice: '60.00',
    currency: 'USD',
    restoreUrl: `https://${SHOP}/checkouts/${token}/recover`,
    updatedAt: new Date(at).toISOString(),
    completedAt: null,
    ...over,
  };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Vendors as the workflow sees them. Emails, codes and tickets are deduplicated by business key
 * (as Klaviyo's unique_id, the Shopify code and Gorgias' external_id lookups do), and every
 * attempt is recorded, so a test can tell "retried with the same key" from "sent twice".
 */
export class FakeVendors {
  readonly sendAttempts: RecoveryEmail[] = [];
  readonly emails = new Map<string, RecoveryEmail>();
  readonly codes = new Map<string, DiscountCode & { percent: number }>();
  readonly revoked: string[] = [];
  readonly ticketAttempts: SupportTicketInput[] = [];
  readonly tickets = new Map<string, string>();
  readonly metrics: MetricEvent[] = [];
  readonly enrichCalls: string[] = [];
  facts: Partial<CustomerFacts> = {};
  /** Per-email facts, over `facts`. */
  factsByEmail: Record<string, Partial<CustomerFacts>> = {};
  unavailableLines = new Set<string>();
  ticketFailuresLeft = 0;
  invalidRecipients = new Set<string>();
  /** Sends refused with CredentialsRejected before the key is "fixed". */
  credentialFailuresLeft = 0;
  /** Runs inside sendRecoveryEmail before the email is accepted (may block or throw). */
  beforeSend: ((email: RecoveryEmail) => Promise<void>) | null = null;
  /** Resolved each time an email is accepted, with the touch number. */
  onSent: ((email: RecoveryEmail) => void) | null = null;

  sentTouches(checkoutToken: string): RecoveryEmail[] {
    return [...this.emails.values()]
      .filter((e) => e.checkoutToken === checkoutToken)
      .sort((a, b) => a.touch - b.touch);
  }

  metricsFor(checkoutToken: string): MetricEvent[] {
    return this.metrics.filter((m) => m.checkoutToken === checkoutToken);
  }

  /**
   * `client`: the Temporal client the customer-gate activity starts gates with; without it the
   * gate activity is not wired (fine for workers that serve only the vendor queues).
   */
  activities(client?: Client) {
    return allOnOneQueue(this.activityGroups(client));
  }

  activityGroups(client?: Client): ActivityGroups {
    return createActivities({
      gate: client ? createGateActivities(client) : undefined,
      klaviyo: {
        enrichCustomer: async (input) => {
          this.enrichCalls.push(input.key);
          return {
            known: true,
            ordersCount: 0,
            lifetimeValue: '0',
            predictedLifetimeValue: null,
            averageOrderValue: null,
            churnProbability: null,
            currency: 'USD',
            vip: false,
            engagement: 'engaged',
            consent: 'NEVER_SUBSCRIBED',
            suppressed: false,
            suppressionReasons: [],
            timezone: null,
            ...this.facts,
            ...this.factsByEmail[input.email],
          };
        },
        sendRecoveryEmail: async (email) => {
          this.sendAttempts.push(email);
          if (this.invalidRecipients.has(email.email)) {
            throw ApplicationFailure.create({
              type: FailureType.InvalidRecipient,
              message: 'Klaviyo refused the recipient (invalid email)',
              nonRetryable: true,
            });
          }
          if (this.credentialFailuresLeft > 0) {
            this.credentialFailuresLeft -= 1;
            throw ApplicationFailure.create({
              type: FailureType.CredentialsRejected,
              message: 'Klaviyo answered 401: KLAVIYO_PRIVATE_API_KEY was rejected',
              nonRetryable: true,
            });
          }
          if (this.beforeSend) await this.beforeSend(email);
          // Server time (time skipping): when this attempt was scheduled.
          const attemptAt = Context.current().info.currentAttemptScheduledTimestampMs;
          if (email.sendBy !== undefined && attemptAt > Date.parse(email.sendBy)) {
            throw ApplicationFailure.create({
              type: FailureType.SendWindowClosed,
              message: `the send window closed at ${email.sendBy}`,
              nonRetryable: true,
            });
          }
          if (!this.emails.has(email.key)) this.emails.set(email.key, email);
          this.onSent?.(email);
          return { messageId: `msg-${email.key}` };
        },
      },
      shopify: {
        lookupVariants: async (input) =>
          input.items.map((item): VariantFacts => ({
            lineKey: item.key,
            available: !this.unavailableLines.has(item.key),
            imageUrl: `https://cdn.example.com/${item.key}.jpg`,
            productUrl: `https://${SHOP}/products/${item.key}`,
          })),
        issueDiscountCode: async (input) => {
          const existing = this.codes.get(input.key);
          if (existing) return existing;
          const code = {
            code: `CR-${this.codes.size + 1}-${input.percent}`,
            id: `gid://shopify/DiscountCodeNode/${this.codes.size + 1}`,
            expiresAt: input.endsAt,
            percent: input.percent,
          };
          this.codes.set(input.key, code);
          return code;
        },
        revokeDiscountCode: async (input) => {
          if (!this.revoked.includes(input.id)) this.revoked.push(input.id);
        },
      },
      gorgias: {
        createSupportTicket: async (input) => {
          this.ticketAttempts.push(input);
          if (this.ticketFailuresLeft > 0) {
            this.ticketFailuresLeft -= 1;
            // Created on the vendor side, then the answer was lost: the retry must find it.
            if (!this.tickets.has(input.key)) this.tickets.set(input.key, `ticket-${this.tickets.size + 1}`);
            throw new Error('Gorgias answered 502 Bad Gateway');
          }
          const id = this.tickets.get(input.key) ?? `ticket-${this.tickets.size + 1}`;
          this.tickets.set(input.key, id);
          return { ticketId: id };
        },
      },
      metrics: {
        recordMetric: async (event) => {
          if (!this.metrics.some((m) => m.key === event.key)) this.metrics.push(event);
        },
      },
    });
  }
}

/** Every activity for a test worker that serves the workflows and all vendor queues as one. */
export function allOnOneQueue(groups: ActivityGroups) {
  return { ...groups.workflows, ...groups.klaviyo, ...groups.shopify, ...groups.gorgias };
}

/** A send that waits, heartbeating, until the workflow cancels it (an order arrived). */
export async function blockUntilCancelled(started: () => void): Promise<never> {
  const ctx = Context.current();
  started();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(50); // rejects with CancelledFailure once cancellation is delivered
  }
}

export interface CartRig {
  env: TestWorkflowEnvironment;
  client: Client;
  taskQueue: string;
  vendors: FakeVendors;
  policy: RecoveryPolicy;
  /** signalWithStart through the production helper. */
  send<P>(token: string, signal: Parameters<typeof sendToCart<P>>[3], payload: P): Promise<void>;
  update(token: string, snap: CheckoutSnapshot): Promise<void>;
  status(token: string): Promise<CartRecoveryStatus>;
  result(token: string): Promise<CartRecoveryStatus>;
  now(): Promise<number>;
}

export function cartRig(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  vendors: FakeVendors,
  policy: RecoveryPolicy = TEST_POLICY,
): CartRig {
  const client = env.client;
  const options = {
    workflowTaskQueue: taskQueue,
    activityTaskQueues: { klaviyo: taskQueue, shopify: taskQueue, gorgias: taskQueue },
    policy,
  };
  const handle = (token: string) => client.workflow.getHandle(cartWorkflowId(SHOP, token));
  const rig: CartRig = {
    env,
    client,
    taskQueue,
    vendors,
    policy,
    async send(token, signal, payload) {
      const r = await sendToCart(client, options, { shop: SHOP, checkoutToken: token }, signal, payload);
      if (!r.accepted) throw new Error(`cart ${token} is closed`);
    },
    update: (token, snap) => rig.send(token, checkoutUpdatedSignal, snap),
    status: (token) => handle(token).query(statusQuery),
    result: (token) => handle(token).result() as Promise<CartRecoveryStatus>,
    now: () => env.currentTimeMs(),
  };
  return rig;
}

export async function cartWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  vendors: FakeVendors,
  bundle: WorkflowBundleWithSourceMap,
  options: { maxCachedWorkflows?: number } = {},
): Promise<Worker> {
  return Worker.create({
    ...options,
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: vendors.activities(env.client),
    defaultHeartbeatThrottleInterval: 50,
    maxHeartbeatThrottleInterval: 100,
  });
}

/** The order of checkout `token` (60 USD unless `over` says otherwise), placed at `at`. */
export function orderFor(token: string, at: number, over: Partial<OrderPlaced> = {}): OrderPlaced {
  return {
    orderId: `order-${token}`,
    totalPrice: '60.00',
    currency: 'USD',
    checkoutToken: token,
    cartToken: `cart-${token}`,
    at: new Date(at).toISOString(),
    ...over,
  };
}

/** Touch times relative to a reference instant, in hours (readable assertion messages). */
export function hoursAfter(reference: number, iso: string): number {
  return Math.round(((Date.parse(iso) - reference) / HOUR) * 1000) / 1000;
}

const INDEXED_VALUE_TYPE: Record<string, number> = {
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  TEXT: 1,
};

/** The time-skipping server rejects unknown search attributes: register ours once per env. */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const searchAttributes: Record<string, number> = {};
  for (const key of ALL_SEARCH_ATTRIBUTES) searchAttributes[key.name] = INDEXED_VALUE_TYPE[key.type]!;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes,
  });
}

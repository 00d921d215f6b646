/**
 * Realistic Shopify webhook traffic for a running relay: shoppers arrive at a chosen rate and
 * each follows a journey (browsing only, converting before abandonment, recovering after touch
 * 1, 2 or 3, never recovering, withdrawing consent, deleting the checkout), delivered the way
 * Shopify delivers: signed, sometimes twice, sometimes out of order, retried when the relay does
 * not answer 2xx. Journey times follow the recovery policy, so "recovers after touch 2" places
 * the order between the second and third touch.
 */
import { randomBytes } from 'node:crypto';
import type { RecoveryPolicy } from '../workflows/policy';
import {
  cartPayload,
  checkoutDeletePayload,
  checkoutPayload,
  consentPayload,
  delivery,
  orderPayload,
  postDelivery,
  type SimCheckout,
  type SimLineItem,
  type WebhookDelivery,
} from './shopify-webhooks';

export type Journey =
  | 'browsing'
  | 'converts_before_abandonment'
  | 'recovers_after_touch_1'
  | 'recovers_after_touch_2'
  | 'recovers_after_touch_3'
  | 'never_recovers'
  | 'withdraws_consent'
  | 'deletes_checkout';

/** Share of shoppers per journey (sums to 1). */
export const JOURNEY_MIX: readonly [Journey, number][] = [
  ['browsing', 0.2],
  ['converts_before_abandonment', 0.2],
  ['recovers_after_touch_1', 0.12],
  ['recovers_after_touch_2', 0.08],
  ['recovers_after_touch_3', 0.05],
  ['never_recovers', 0.25],
  ['withdraws_consent', 0.07],
  ['deletes_checkout', 0.03],
];

export interface SimulatorOptions {
  url: string;
  shop: string;
  secret: string;
  shoppersPerMinute: number;
  policy: RecoveryPolicy;
  /** Stop starting shoppers after this many (default: no limit). */
  maxShoppers?: number;
  /** Share of deliveries sent twice with the same webhook id. */
  duplicateRate?: number;
  /** Share of checkout updates delivered after the update that followed them. */
  reorderRate?: number;
  seed?: number;
  /** Called after each answer (or network failure: status 0). */
  onAnswer?: (d: WebhookDelivery, status: number) => void;
}

export interface SimulatorStats {
  shoppers: number;
  byJourney: Partial<Record<Journey, number>>;
  deliveries: number;
  duplicatesSent: number;
  reorderedSent: number;
  byStatus: Record<string, number>;
  retries: number;
}

/** Deterministic PRNG (mulberry32) so a seed reproduces a run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRODUCTS: SimLineItem[] = [
  {
    productId: 7001,
    variantId: 70011,
    title: 'Trail Runner',
    variantTitle: 'Blue / 42',
    sku: 'TR-BL-42',
    quantity: 1,
    price: '89.00',
  },
  {
    productId: 7002,
    variantId: 70021,
    title: 'Merino Socks',
    variantTitle: '3-pack',
    sku: 'MS-3',
    quantity: 1,
    price: '24.50',
  },
  {
    productId: 7003,
    variantId: 70031,
    title: 'Down Jacket',
    variantTitle: 'Black / M',
    sku: 'DJ-BK-M',
    quantity: 1,
    price: '249.00',
  },
  {
    productId: 7004,
    variantId: 70041,
    title: 'Water Bottle',
    variantTitle: null,
    sku: 'WB-750',
    quantity: 1,
    price: '19.90',
  },
  {
    productId: 7005,
    variantId: 70051,
    title: 'Rain Shell',
    variantTitle: 'Green / L',
    sku: 'RS-GR-L',
    quantity: 1,
    price: '159.00',
  },
];
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson'];

export class TrafficSimulator {
  readonly stats: SimulatorStats = {
    shoppers: 0,
    byJourney: {},
    deliveries: 0,
    duplicatesSent: 0,
    reorderedSent: 0,
    byStatus: {},
    retries: 0,
  };
  private readonly random: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private arrivals: NodeJS.Timeout | undefined;
  private stopped = false;
  private serial = 0;

  constructor(private readonly options: SimulatorOptions) {
    if (!(options.shoppersPerMinute > 0)) throw new Error('shoppersPerMinute must be above 0');
    this.random = prng(options.seed ?? Date.now());
  }

  start(): void {
    const meanGapMs = 60_000 / this.options.shoppersPerMinute;
    const next = () => {
      if (this.stopped) return;
      if (this.options.maxShoppers !== undefined && this.stats.shoppers >= this.options.maxShoppers) return;
      this.startShopper();
      // Poisson arrivals: exponential gaps around the mean.
      const gap = -Math.log(1 - this.random()) * meanGapMs;
      this.arrivals = setTimeout(next, Math.min(gap, meanGapMs * 5));
    };
    next();
  }

  /** Stop starting shoppers and cancel scheduled deliveries; waits for requests in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.arrivals) clearTimeout(this.arrivals);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Journeys still have deliveries scheduled. */
  get busy(): boolean {
    return this.timers.size > 0 || this.inFlight.size > 0;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private journey(): Journey {
    let r = this.random();
    for (const [journey, share] of JOURNEY_MIX) {
      if (r < share) return journey;
      r -= share;
    }
    return 'never_recovers';
  }

  private shopper(): SimCheckout {
    const n = ++this.serial;
    const guest = this.random() < 0.15;
    const items = PRODUCTS.filter(() => this.random() < 0.35);
    const lineItems = (items.length ? items : [this.pick(PRODUCTS)]).map((p) => ({
      ...p,
      quantity: 1 + Math.floor(this.random() * 2),
    }));
    const customerId = guest ? null : 6_000_000_000 + Math.floor(this.random() * 1e9);
    return {
      checkoutToken: randomBytes(16).toString('hex'),
      cartToken: randomBytes(16).toString('hex'),
      checkoutId: 30_000_000_000 + Math.floor(this.random() * 1e10),
      customerId,
      email: `demo+${Date.now().toString(36)}${n}@example.com`,
      firstName: this.pick(FIRST),
      lastName: this.pick(LAST),
      acceptsMarketing: this.random() < 0.9,
      currency: 'USD',
      lineItems,
    };
  }

  private startShopper() {
    const journey = this.journey();
    this.stats.shoppers++;
    this.stats.byJourney[journey] = (this.stats.byJourney[journey] ?? 0) + 1;
    const c = this.shopper();
    const { shop } = this.options;
    const policy = this.options.policy;
    const browseGap = Math.min(20_000, policy.abandonAfterMs / 6);
    // Offsets are relative to the first checkout; the journey's first delivery (the cart, at
    // -2 x browseGap) goes out now, so payload times match send times.
    const t0 = Date.now() + 2 * browseGap;
    const iso = (offsetMs: number) => new Date(t0 + offsetMs).toISOString();
    const plan: { at: number; d: WebhookDelivery }[] = [];
    const send = (at: number, topic: string, payload: unknown) =>
      plan.push({ at, d: delivery(topic, shop, payload, iso(at)) });
    const checkout = (at: number, updated: SimCheckout = c) =>
      send(
        at,
        at === 0 ? 'checkouts/create' : 'checkouts/update',
        checkoutPayload(updated, { createdAt: iso(0), updatedAt: iso(at) }, shop),
      );

    // Browsing: cart activity only, nothing to recover.
    send(-2 * browseGap, 'carts/create', cartPayload(c, iso(-2 * browseGap)));
    send(-browseGap, 'carts/update', cartPayload(c, iso(-browseGap)));
    if (journey === 'browsing') return this.schedule(plan);

    const lastActivity = Math.min(30_000, policy.abandonAfterMs / 4);
    checkout(0);
    checkout(lastActivity / 2);
    // The email is typed in: the last update before the shopper goes quiet.
    checkout(lastActivity, {
      ...c,
      lineItems: c.lineItems.map((i, k) => (k === 0 ? { ...i, quantity: i.quantity + 1 } : i)),
    });

    const touchAt = (n: number) => lastActivity + (policy.touchDelaysMs[n - 1] ?? policy.abandonAfterMs * n);
    const between = (n: number) => touchAt(n) + (touchAt(n + 1) - touchAt(n)) * 0.4;
    const order = (at: number) => {
      const id = 5_000_000_000 + Math.floor(this.random() * 1e9);
      send(at, 'orders/create', orderPayload(c, id, iso(at)));
      send(at + 1_500, 'orders/paid', orderPayload(c, id, iso(at + 1_500)));
    };
    switch (journey) {
      case 'converts_before_abandonment':
        // One in four orders overtakes the checkout webhooks (delivery order is not guaranteed).
        if (this.random() < 0.25) order(-browseGap / 2);
        else order(lastActivity + policy.abandonAfterMs * 0.4);
        break;
      case 'recovers_after_touch_1':
        order(between(1));
        break;
      case 'recovers_after_touch_2':
        order(between(2));
        break;
      case 'recovers_after_touch_3':
        order(between(3));
        break;
      case 'withdraws_consent':
        if (c.customerId)
          send(
            between(1),
            'customers_email_marketing_consent/update',
            consentPayload(c, 'unsubscribed', iso(between(1))),
          );
        break;
      case 'deletes_checkout':
        send(lastActivity + policy.abandonAfterMs / 2, 'checkouts/delete', checkoutDeletePayload(c));
        break;
      case 'never_recovers':
        break;
    }
    this.schedule(plan);
  }

  private schedule(plan: { at: number; d: WebhookDelivery }[]) {
    plan.sort((a, b) => a.at - b.at);
    // Reordering: a checkout update swaps send time with the delivery after it.
    for (let i = 0; i + 1 < plan.length; i++) {
      if (plan[i]!.d.topic === 'checkouts/update' && this.random() < (this.options.reorderRate ?? 0.1)) {
        const [a, b] = [plan[i]!, plan[i + 1]!];
        [a.at, b.at] = [b.at + 200, a.at];
        this.stats.reorderedSent++;
        i++;
      }
    }
    const origin = Math.min(...plan.map((p) => p.at));
    for (const { at, d } of plan) {
      this.later(at - origin, () => this.deliver(d, 1));
      if (this.random() < (this.options.duplicateRate ?? 0.05)) {
        this.stats.duplicatesSent++;
        this.later(at - origin + 500 + this.random() * 3_000, () => this.deliver(d, 1));
      }
    }
  }

  private later(delayMs: number, fn: () => Promise<void>) {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = fn().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }, delayMs);
    this.timers.add(timer);
  }

  /** Deliver like Shopify: retried with growing delays while the answer is not 2xx. */
  private async deliver(d: WebhookDelivery, attempt: number): Promise<void> {
    // Status 0: no answer at all (refused connection, timeout), which Shopify also retries.
    const status = await postDelivery(this.options.url, d, this.options.secret).then(
      (answer) => answer.status,
      () => 0,
    );
    this.stats.deliveries++;
    this.stats.byStatus[String(status)] = (this.stats.byStatus[String(status)] ?? 0) + 1;
    this.options.onAnswer?.(d, status);
    if ((status < 200 || status >= 300) && status !== 401 && status !== 413 && attempt < 4) {
      this.stats.retries++;
      this.later(2_000 * 2 ** attempt, () => this.deliver(d, attempt + 1));
    }
  }
}

export function describeStats(s: SimulatorStats): string {
  const statuses = Object.entries(s.byStatus)
    .map(([k, v]) => `${k === '0' ? 'no answer' : k}: ${v}`)
    .join(', ');
  return `${s.shoppers} shoppers, ${s.deliveries} deliveries (${statuses || 'none yet'}), ${s.duplicatesSent} duplicates, ${s.reorderedSent} reordered, ${s.retries} retries`;
}

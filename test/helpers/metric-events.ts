/**
 * Builders of the `MetricEvent`s the cart workflow records, with the business keys it uses,
 * for the metrics store, dashboard and benchmark.
 */
import type { MetricEvent } from '../../src/workflows/contracts';
import type { Segment } from '../../src/workflows/policy';

export interface CartSpec {
  shop?: string;
  token: string;
  segment?: Segment;
  value?: string;
  currency?: string;
  control?: boolean;
  abandonedAt: string;
  touches?: number;
  /** Order: revenue, time, attributed touch (null: none). */
  order?: { revenue: string; at: string; touch: number | null; currency?: string };
}

const HOUR = 3_600_000;

export function cartEvents(spec: CartSpec): MetricEvent[] {
  const shop = spec.shop ?? 'demo.myshopify.com';
  const segment = spec.segment ?? 'welcome';
  const currency = spec.currency ?? 'USD';
  const prefix = `${shop}:${spec.token}`;
  const base = Date.parse(spec.abandonedAt);
  const events: MetricEvent[] = [
    {
      kind: 'abandoned',
      key: `${prefix}:abandoned`,
      shop,
      checkoutToken: spec.token,
      workflowId: `cart:${shop}:${spec.token}`,
      segment,
      cartValue: spec.value ?? '100.00',
      currency,
      controlGroup: spec.control ?? false,
      at: spec.abandonedAt,
    },
  ];
  for (let touch = 1; touch <= (spec.control ? 0 : (spec.touches ?? 0)); touch++) {
    events.push({
      kind: 'touch_sent',
      key: `${prefix}:touch-${touch}:sent`,
      shop,
      checkoutToken: spec.token,
      touch,
      segment,
      discountPercent: touch === 1 ? 0 : 10,
      at: new Date(base + touch * HOUR).toISOString(),
    });
  }
  if (spec.order) {
    events.push({
      kind: 'converted',
      key: `${prefix}:converted`,
      shop,
      checkoutToken: spec.token,
      orderId: `order-${spec.token}`,
      revenue: spec.order.revenue,
      currency: spec.order.currency ?? currency,
      attributedTouch: spec.order.touch,
      segment,
      controlGroup: spec.control ?? false,
      at: spec.order.at,
    });
  }
  return events;
}

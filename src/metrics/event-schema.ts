/**
 * Validation of incoming facts: a metric event is checked against its schema (and its money
 * against the currency's rules) before anything is recorded.
 */
import { z } from 'zod';
import type { MetricEvent } from '../workflows/contracts';
import { SEGMENTS, type Segment } from '../workflows/policy';
import { assertCurrency, InvalidMoneyError, toMicros } from '../workflows/money';

export class InvalidMetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetricError';
  }
}

const isoTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 time');
const text = z.string().trim().min(1, 'expected a non-empty value');
const segment = z.enum(SEGMENTS as [Segment, ...Segment[]]);
const touchNumber = z.number().int().min(1, 'expected a touch number from 1');
const base = { key: text, shop: text, checkoutToken: text, at: isoTime };
const metricEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('abandoned'),
    ...base,
    workflowId: text,
    segment,
    cartValue: z.string(),
    currency: z.string(),
    controlGroup: z.boolean(),
  }),
  z.object({
    kind: z.literal('touch_sent'),
    ...base,
    touch: touchNumber,
    segment,
    discountPercent: z.number().min(0).max(100),
  }),
  z.object({ kind: z.literal('ticket_created'), ...base, ticketId: text }),
  z.object({
    kind: z.literal('converted'),
    ...base,
    orderId: text,
    revenue: z.string(),
    currency: z.string(),
    attributedTouch: touchNumber.nullable(),
    segment: segment.nullable(),
    controlGroup: z.boolean(),
  }),
  z.object({ kind: z.literal('outcome'), ...base, outcome: text }),
]);

export function validate(event: MetricEvent): MetricEvent {
  const parsed = metricEventSchema.safeParse(event);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
    throw new InvalidMetricError(`invalid metric event (${where})`);
  }
  try {
    if ('currency' in event) assertCurrency(event.currency);
    if (event.kind === 'abandoned') toMicros(event.cartValue);
    if (event.kind === 'converted') toMicros(event.revenue);
  } catch (err) {
    if (err instanceof InvalidMoneyError)
      throw new InvalidMetricError(`invalid metric event: ${err.message}`);
    throw err;
  }
  return event;
}

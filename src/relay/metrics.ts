/**
 * Prometheus metrics of the webhook relay: deliveries by topic and outcome, acknowledgement
 * latency, dead letters. Topic labels come only from signed deliveries and are bounded, so a
 * forger cannot blow up the number of series.
 */
import type { PrometheusRegistry } from '../prometheus';

const TOPIC_LABEL = /^[a-z_]{1,40}\/[a-z_]{1,40}$/;

/** Acknowledgement latency buckets in seconds; Shopify gives up at 5 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 5];

export class RelayMetrics {
  private readonly deliveries;
  private readonly latency;
  private readonly deadLetters;
  private readonly replays;

  constructor(registry: PrometheusRegistry, pendingDeadLetters: () => Promise<number>) {
    this.deliveries = registry.counter(
      'cart_recovery_webhook_deliveries_total',
      'Shopify webhook deliveries by topic and outcome (accepted, closed, duplicate, no_open_checkout, unmatched_order, ignored_topic, dead_letter, unauthorized, too_large, unavailable).',
    );
    this.latency = registry.histogram(
      'cart_recovery_webhook_ack_seconds',
      'Time from receiving a Shopify webhook to answering it, by outcome.',
      LATENCY_BUCKETS,
    );
    this.deadLetters = registry.counter(
      'cart_recovery_webhook_dead_letters_total',
      'Genuine deliveries stored as dead letters, by topic.',
    );
    this.replays = registry.counter(
      'cart_recovery_webhook_dead_letter_replays_total',
      'Dead-letter replays by outcome.',
    );
    registry.gauge(
      'cart_recovery_webhook_dead_letters_pending',
      'Dead letters not yet replayed successfully.',
      pendingDeadLetters,
    );
  }

  observe(topic: string, outcome: string, seconds: number) {
    // An unverified delivery's headers are anyone's: never let them name a series.
    const label = outcome === 'unauthorized' ? '(unverified)' : TOPIC_LABEL.test(topic) ? topic : '(other)';
    this.deliveries.inc({ topic: label, outcome });
    this.latency.observe(seconds, { outcome });
  }

  deadLettered(topic: string) {
    this.deadLetters.inc({ topic: TOPIC_LABEL.test(topic) ? topic : '(other)' });
  }

  replayed(outcome: string) {
    this.replays.inc({ outcome });
  }

  /** Deliveries counted so far with this topic and outcome (for tests and the simulator). */
  count(topic: string, outcome: string): number {
    return this.deliveries.get({ topic, outcome });
  }
}

/**
 * The metrics store: one interface over the app database (SQLite or PostgreSQL, same SQL).
 *
 * Recording is idempotent by business key: `metric_events` and `metric_engagement` accept a key
 * once, and only a first acceptance changes anything. Each change to a cart (its abandonment,
 * touches, opens, clicks, order) recomputes that cart's contribution to the daily rollups and
 * applies the difference, in the same transaction, so facts may arrive in any order and the
 * rollups always equal what the base tables say.
 *
 * Rollup days are calendar days in one time zone (METRICS_TIMEZONE), recorded beside the rollups;
 * a store opened with another zone rebuilds every rollup from the base tables once.
 *
 * The parts: `event-schema.ts` validates incoming facts, `recording.ts` records them (and erases
 * or redacts them on request), `rollups.ts` keeps the daily rollups in step, `summary.ts` answers
 * the dashboard's queries from them; `types.ts` holds the public types re-exported here.
 */
import type { Database } from '../db';
import { migrate } from '../db';
import type { MetricEvent } from '../workflows/contracts';
import { METRICS_COMPONENT, metricsMigrations } from './migrations';
import * as recording from './recording';
import { rebuildRollups } from './rollups';
import * as queries from './summary';
import type {
  EngagementFact,
  MetricsFilter,
  MetricsStore,
  MetricsSummary,
  RecordResult,
  TouchLink,
  TouchRef,
} from './types';

export { InvalidMetricError } from './event-schema';
export { rebuildRollups } from './rollups';
export type * from './types';

export interface MetricsStoreOptions {
  /** IANA zone of the rollups' calendar days (config.metrics.timeZone). */
  timeZone: string;
}

/**
 * Migrates the metrics schema and, when the rollups were built in another zone than `timeZone`,
 * rebuilds them (see `rebuildRollups`) before the store is used.
 */
export async function openMetricsStore(db: Database, options: MetricsStoreOptions): Promise<MetricsStore> {
  await migrate(db, METRICS_COMPONENT, metricsMigrations);
  await rebuildRollups(db, options.timeZone);
  return new SqlMetricsStore(db, options.timeZone);
}

class SqlMetricsStore implements MetricsStore {
  constructor(
    private readonly db: Database,
    readonly timeZone: string,
  ) {}

  record(event: MetricEvent): Promise<RecordResult> {
    return recording.record(this.db, this.timeZone, event);
  }

  recordEngagement(fact: EngagementFact): Promise<RecordResult> {
    return recording.recordEngagement(this.db, this.timeZone, fact);
  }

  registerLink(link: TouchLink): Promise<void> {
    return recording.registerLink(this.db, link);
  }

  findLink(ref: TouchRef): Promise<TouchLink | undefined> {
    return recording.findLink(this.db, ref);
  }

  latestTouchForRecipient(recipientHash: string, at: string, since: string): Promise<TouchRef | undefined> {
    return recording.latestTouchForRecipient(this.db, recipientHash, at, since);
  }

  syncedUntil(source: string): Promise<string | undefined> {
    return recording.syncedUntil(this.db, source);
  }

  markSynced(source: string, until: string): Promise<void> {
    return recording.markSynced(this.db, source, until);
  }

  redactRecipient(recipientHash: string): Promise<number> {
    return recording.redactRecipient(this.db, recipientHash);
  }

  eraseShop(shop: string): Promise<number> {
    return recording.eraseShop(this.db, shop);
  }

  redactOrders(shop: string, orderIds: readonly string[]): Promise<number> {
    return recording.redactOrders(this.db, shop, orderIds);
  }

  linksForRecipient(recipientHash: string): Promise<TouchLink[]> {
    return recording.linksForRecipient(this.db, recipientHash);
  }

  summary(filter: MetricsFilter): Promise<MetricsSummary> {
    return queries.summary(this.db, this.timeZone, filter);
  }

  shops(): Promise<string[]> {
    return queries.shops(this.db);
  }
}

/**
 * The metrics activities, backed by the metrics store in the app database: `recordMetric` (the
 * cart workflow's facts), the engagement sync's activities, and the tracked links that the
 * Klaviyo send wraps around each restore URL (see `createActivities`).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { logger } from '../logger';
import { openDatabase } from '../db';
import { createKlaviyoEngagementSource } from '../vendors/klaviyo/engagement';
import { createLinkSigner, createTrackedLinks, resolveLinkSecret, type TrackedLinks } from '../metrics/links';
import { InvalidMetricError, openMetricsStore, type MetricsStore } from '../metrics/store';
import type { EngagementSyncActivities, LocalActivities } from '../workflows/contracts';
import { createEngagementActivities } from './engagement';

/** `ApplicationFailure.type` of a metric event the store refuses (a bug in the caller: not retried). */
export const INVALID_METRIC = 'InvalidMetric';

export interface MetricsActivities {
  /** `recordMetric`: the cart workflow's facts. */
  recording: LocalActivities;
  engagement: EngagementSyncActivities;
  links: TrackedLinks;
  close(): Promise<void>;
}

export function createMetricActivities(store: MetricsStore): LocalActivities {
  return {
    async recordMetric(event) {
      try {
        await store.record(event);
      } catch (err) {
        if (err instanceof InvalidMetricError) {
          throw ApplicationFailure.create({
            message: err.message,
            type: INVALID_METRIC,
            nonRetryable: true,
            cause: err,
          });
        }
        throw err;
      }
    },
  };
}

export async function buildMetricsActivities(config: Config): Promise<MetricsActivities> {
  const db = await openDatabase(config.database);
  try {
    const store = await openMetricsStore(db, { timeZone: config.metrics.timeZone });
    const signer = createLinkSigner(resolveLinkSecret(config));
    const publicHost = new URL(config.api.publicUrl).hostname;
    if (config.env === 'production' && ['localhost', '127.0.0.1', '::1', '[::1]'].includes(publicHost)) {
      logger.warn(
        `PUBLIC_URL is ${config.api.publicUrl}: the links in recovery emails will not open for customers; set it to the API's public https address`,
      );
    }
    const klaviyo = config.vendors.klaviyo;
    const source = klaviyo.live
      ? createKlaviyoEngagementSource({
          privateApiKey: klaviyo.live.privateApiKey,
          baseUrl: klaviyo.live.baseUrl,
          timeoutMs: config.vendors.httpTimeoutMs,
          recoveryMetric: klaviyo.recoveryMetric,
        })
      : null;
    return {
      recording: createMetricActivities(store),
      engagement: createEngagementActivities({
        store,
        signer,
        source,
        recoveryMetric: klaviyo.recoveryMetric,
        overlapMs: config.metrics.engagementSync.overlapMs,
        backfillMs: config.metrics.engagementSync.backfillMs,
        lookbackMs: config.metrics.linkTtlMs,
      }),
      links: createTrackedLinks({
        store,
        signer,
        publicUrl: config.api.publicUrl,
        ttlMs: config.metrics.linkTtlMs,
      }),
      close: () => db.close(),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

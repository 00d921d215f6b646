/**
 * engagementSync: run by a Temporal Schedule (hourly by default, see src/metrics/schedule.ts),
 * it reads email opens and clicks from the ESP since the last synced time (minus an overlap for
 * late events) and joins them to our touches. Every fact is recorded idempotently by the ESP's
 * event id, so overlapping or repeated runs count nothing twice. Without an engagement source
 * (Klaviyo in sandbox mode) it says so and does nothing.
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { EngagementSyncActivities, EngagementWindowCounts } from './contracts';

export interface EngagementSyncResult {
  status: 'synced' | 'no-source';
  notes: string[];
  from: string;
  until: string;
  counts: Partial<Record<'open' | 'click', EngagementWindowCounts>>;
}

const { planEngagementSync, completeEngagementSync } = proxyActivities<EngagementSyncActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, initialInterval: '5 seconds' },
});

// Pages through a window, heartbeating its cursor: a retry resumes from the last page read.
const { syncEngagementWindow } = proxyActivities<EngagementSyncActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 10, initialInterval: '5 seconds' },
});

export async function engagementSync(): Promise<EngagementSyncResult> {
  const plan = await planEngagementSync();
  for (const note of plan.notes) log.info(`engagement sync: ${note}`);
  if (plan.source === null) {
    return { status: 'no-source', notes: plan.notes, from: plan.from, until: plan.until, counts: {} };
  }
  const counts: EngagementSyncResult['counts'] = {};
  for (const window of plan.windows) {
    counts[window.kind] = await syncEngagementWindow({
      source: plan.source,
      kind: window.kind,
      metricId: window.metricId,
      from: plan.from,
      until: plan.until,
      flowIds: plan.flowIds,
    });
  }
  // Only after every window is read: a failed run leaves the watermark, the next run re-reads.
  await completeEngagementSync({ source: plan.source, until: plan.until });
  return { status: 'synced', notes: plan.notes, from: plan.from, until: plan.until, counts };
}

/**
 * The Temporal Schedule that runs the engagement sync (ENGAGEMENT_SYNC_INTERVAL, hourly by
 * default). The worker ensures it at start: created when missing, its interval and task queue
 * brought in line with the configuration when they differ, left alone otherwise; safe to run
 * from every worker replica at once.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { logger } from '../logger';
import { ENGAGEMENT_SYNC_WORKFLOW_TYPE } from '../workflows/workflow-types';

export function engagementScheduleId(config: Config): string {
  return `engagement-sync:${config.temporal.taskQueue}`;
}

function scheduleOptions(config: Config) {
  const every = config.metrics.engagementSync.intervalMs;
  return {
    spec: { intervals: [{ every }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: ENGAGEMENT_SYNC_WORKFLOW_TYPE,
      workflowId: `engagement-sync:${config.temporal.taskQueue}`,
      taskQueue: config.temporal.taskQueue,
      args: [],
      // One run never takes longer than the interval; a stuck one is ended and the next re-reads.
      workflowExecutionTimeout: Math.max(every, 10 * 60_000),
    },
    policies: {
      // A run still going when the next is due: skip, the next one reads the whole gap anyway.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: Math.max(every, 60_000),
    },
  };
}

export async function ensureEngagementSchedule(
  client: Client,
  config: Config,
): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = engagementScheduleId(config);
  const options = scheduleOptions(config);
  try {
    await client.schedule.create({ scheduleId, ...options });
    logger.info('engagement sync schedule created', {
      scheduleId,
      everyMs: config.metrics.engagementSync.intervalMs,
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  const currentEvery = current.spec.intervals?.[0]?.every;
  const currentQueue = current.action.type === 'startWorkflow' ? current.action.taskQueue : undefined;
  if (
    currentEvery === options.spec.intervals[0]!.every &&
    current.spec.intervals?.length === 1 &&
    currentQueue === options.action.taskQueue
  ) {
    return 'unchanged';
  }
  await handle.update((previous) => ({ ...previous, ...options, state: previous.state }));
  logger.info('engagement sync schedule updated', {
    scheduleId,
    everyMs: config.metrics.engagementSync.intervalMs,
  });
  return 'updated';
}

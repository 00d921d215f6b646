/**
 * The engagement sync Schedule on a real Temporal dev server (the time-skipping test server has
 * no schedules): ensured idempotently at worker start, updated when the interval changes, and a
 * triggered run reaches the sync workflow and its activities.
 */
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { ensureTemporalBinary } from '../src/temporal/binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { engagementScheduleId, ensureEngagementSchedule } from '../src/metrics/schedule';
import { createEngagementActivities } from '../src/activities/engagement';
import { openDatabase } from '../src/db';
import { openMetricsStore } from '../src/metrics/store';
import { createLinkSigner } from '../src/metrics/links';
import type { EngagementSyncResult } from '../src/workflows/engagement-sync';
import { uniqueId, workflowBundle } from './helpers/temporal';

describe('engagement sync schedule (Temporal dev server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: ensureTemporalBinary('cli') },
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        ip: '127.0.0.1',
      },
    });
  });
  after(async () => {
    await env?.teardown();
  });

  it('is created once, left alone when unchanged and updated when the interval changes', async function () {
    const queue = uniqueId(this.test!.title);
    const hourly = loadConfig({ TEMPORAL_TASK_QUEUE: queue });
    assert.equal(await ensureEngagementSchedule(env.client, hourly), 'created');
    assert.equal(await ensureEngagementSchedule(env.client, hourly), 'unchanged');

    const handle = env.client.schedule.getHandle(engagementScheduleId(hourly));
    let d = await handle.describe();
    assert.equal(d.spec.intervals?.[0]?.every, 3_600_000);
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.ok(d.action.type === 'startWorkflow');
    assert.equal(d.action.workflowType, 'engagementSync');
    assert.equal(d.action.taskQueue, queue);

    const halfHourly = loadConfig({ TEMPORAL_TASK_QUEUE: queue, ENGAGEMENT_SYNC_INTERVAL: '30m' });
    assert.equal(await ensureEngagementSchedule(env.client, halfHourly), 'updated');
    d = await handle.describe();
    assert.equal(d.spec.intervals?.[0]?.every, 1_800_000);
    await handle.delete();
  });

  it('starts the sync workflow, which runs its activities (sandbox: says there is no source)', async function () {
    const queue = uniqueId(this.test!.title);
    const config = loadConfig({ TEMPORAL_TASK_QUEUE: queue });
    const db = await openDatabase({ sqliteFile: ':memory:' });
    const store = await openMetricsStore(db, { timeZone: config.metrics.timeZone });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queue,
      workflowBundle: await workflowBundle(require.resolve('../src/workflows/engagement-sync')),
      activities: createEngagementActivities({
        store,
        signer: createLinkSigner('schedule-test-secret-0123456789abcdef'),
        source: null,
        recoveryMetric: 'Cart Recovery Touch',
        overlapMs: 3_600_000,
        backfillMs: 86_400_000,
        lookbackMs: 86_400_000,
      }),
    });
    await ensureEngagementSchedule(env.client, config);
    const handle = env.client.schedule.getHandle(engagementScheduleId(config));
    try {
      const result = await worker.runUntil(async () => {
        await handle.trigger();
        for (;;) {
          const action = (await handle.describe()).info.recentActions[0]?.action;
          if (action) {
            return env.client.workflow
              .getHandle<() => Promise<EngagementSyncResult>>(
                action.workflow.workflowId,
                action.workflow.firstExecutionRunId,
              )
              .result();
          }
          await new Promise((r) => setTimeout(r, 200)); // the schedule starts the run asynchronously
        }
      });
      assert.equal(result.status, 'no-source');
      assert.match(result.notes[0]!, /sandbox mode/);
    } finally {
      await handle.delete();
      await db.close();
    }
  });
});

import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv, terminateReleasingLocks, uniqueId, workflowBundle } from './helpers/temporal';
import { longWait, pingSignal, pingsQuery } from './workflows/probe';

const HOUR = 3_600_000;

describe('time-skipping test server', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });
  const probeWorker = async (taskQueue: string) =>
    Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows/probe')),
    });

  it('completes a 72-hour wait in workflow time and sees a signal sent during it', async function () {
    const taskQueue = uniqueId(this.test!.title);
    const worker = await probeWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(longWait, {
        taskQueue,
        workflowId: uniqueId(this.test!.title),
        args: [72 * HOUR],
      });
      await env.sleep(30 * HOUR);
      await handle.signal(pingSignal, 'during the wait');
      assert.deepEqual(await handle.query(pingsQuery), ['during the wait']);
      const result = await handle.result();
      assert.deepEqual(result.pings, ['during the wait']);
      assert.ok(result.elapsedMs >= 72 * HOUR, `workflow time elapsed: ${result.elapsedMs} ms`);
    });
  });

  // The test server keeps a lock for a workflow task outstanding when its workflow is
  // terminated; a file sharing one server would hang at its next wait without the release.
  it('still skips time after a workflow is terminated with its workflow task outstanding', async function () {
    const nobodyPolls = uniqueId(`${this.test!.title} unpolled`);
    const stuck = await env.client.workflow.start(longWait, {
      taskQueue: nobodyPolls,
      workflowId: nobodyPolls,
      args: [HOUR],
    });
    await terminateReleasingLocks(env, { workflowId: stuck.workflowId, runId: stuck.firstExecutionRunId });

    const taskQueue = uniqueId(this.test!.title);
    const worker = await probeWorker(taskQueue);
    await worker.runUntil(async () => {
      const waited = env.client.workflow.execute(longWait, {
        taskQueue,
        workflowId: uniqueId(this.test!.title),
        args: [72 * HOUR],
      });
      // Real time: 72 hours of workflow time take milliseconds while skipping works.
      let guard: NodeJS.Timeout | undefined;
      const held = new Promise<'held'>((resolve) => {
        guard = setTimeout(() => resolve('held'), 15_000);
      });
      try {
        const result = await Promise.race([waited, held]);
        assert.notEqual(result, 'held', 'time skipping is still locked by the terminated workflow task');
      } finally {
        clearTimeout(guard);
      }
    });
  });
});

/**
 * Shared Temporal test plumbing: the real time-skipping test server (the project-installed
 * binary, never a download), one environment and one workflow bundle per test file, and
 * workflow ids / task queues unique to each test.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { ensureTemporalBinary } from '../../src/temporal/binaries';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    // already installed by another test file in this process
  }
}

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = ensureTemporalBinary('testServer');
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
  });
}

/**
 * Ends every workflow still open in `env`, while the test's workers still run: call it last
 * inside `runUntil` (see runThenEndWorkflows) in a file that shares one environment between its
 * tests. What a test leaves running (a cart in its attribution window, a customer gate in its
 * cooldown) has timers whose workflow tasks nobody would poll once the worker stopped, and the
 * time-skipping server does not skip time while workflow tasks are outstanding: the next test
 * would hang.
 *
 * The test server holds a time-skipping lock for each outstanding workflow task and activity,
 * and terminating a workflow never releases them (TestWorkflowMutableStateImpl: terminate does
 * not touch them, and their later completion is refused as "Completed workflow"; upstream bug
 * https://github.com/temporalio/sdk-java/issues/1138). So each
 * workflow is first left to settle (nothing outstanding), then terminated. Settling cannot close
 * the race, though: the clock runs in real time even while skipping is locked, and a timer that
 * falls due between the check and the terminate (a gate's cooldown ending a few milliseconds
 * after the test's last cart) hands out a new workflow task. What the terminated run still had
 * outstanding is therefore read back from the server and its locks released, one each.
 *
 * The server is asked what is open, so workflows started by production code (the gate
 * activity, the relay) are found too.
 */
export async function endOpenWorkflows(env: TestWorkflowEnvironment, timeoutMs = 15_000): Promise<void> {
  const namespace = env.namespace ?? 'default';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The test server implements only the legacy listing (not ListWorkflowExecutions).
    const { executions } = await env.client.workflowService.listOpenWorkflowExecutions({ namespace });
    const runs = (executions ?? []).flatMap(({ execution: e }) =>
      e?.workflowId && e.runId ? [{ workflowId: e.workflowId, runId: e.runId }] : [],
    );
    if (runs.length === 0) return;
    const busy = await Promise.all(runs.map((run) => outstandingWork(env, run)));
    if (busy.some((n) => n > 0)) {
      if (Date.now() > deadline) {
        const ids = runs.map((r) => r.workflowId).join(', ');
        throw new Error(`workflows still busy after the test: ${ids}`);
      }
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await Promise.all(runs.map((run) => terminateReleasingLocks(env, run)));
  }
}

/**
 * `worker.runUntil(fn)` for a file that shares one environment between its tests: after `fn`,
 * pass or fail, ends what the test left open while the worker can still settle it.
 */
export async function runThenEndWorkflows<R>(
  env: TestWorkflowEnvironment,
  worker: Worker,
  fn: () => Promise<R>,
): Promise<R> {
  return worker.runUntil(async () => {
    try {
      return await fn();
    } finally {
      await endOpenWorkflows(env);
    }
  });
}

/**
 * Resolves once the latest run of `workflowId` has nothing outstanding (no workflow task, no
 * activity): a worker stopped then leaves nothing half-done behind.
 */
export async function untilSettled(
  env: TestWorkflowEnvironment,
  workflowId: string,
  timeoutMs = 15_000,
): Promise<void> {
  const { runId } = await env.client.workflow.getHandle(workflowId).describe();
  const deadline = Date.now() + timeoutMs;
  while ((await outstandingWork(env, { workflowId, runId })) > 0) {
    if (Date.now() > deadline) throw new Error(`${workflowId} still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Run {
  workflowId: string;
  runId: string;
}

/**
 * Terminates `run`, then releases the time-skipping locks the test server keeps for what the run
 * had outstanding when it ended (see endOpenWorkflows).
 */
export async function terminateReleasingLocks(env: TestWorkflowEnvironment, run: Run): Promise<void> {
  const handle = env.client.workflow.getHandle(run.workflowId, run.runId);
  try {
    await handle.terminate('test finished');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return; // it closed by itself meanwhile: nothing held
    throw err;
  }
  const leaked = await outstandingWork(env, run);
  const testService = env.connection.testService;
  if (!testService) throw new Error('endOpenWorkflows needs the time-skipping test server');
  for (let i = 0; i < leaked; i++) await testService.unlockTimeSkipping({});
}

/**
 * Workflow tasks and activities of `run` that the server counts as outstanding (each holds one
 * time-skipping lock). The history is read before the description: a workflow task completing
 * in between shows as open in the first, or its new activities show in the second.
 */
async function outstandingWork(env: TestWorkflowEnvironment, run: Run): Promise<number> {
  const handle = env.client.workflow.getHandle(run.workflowId, run.runId);
  try {
    const events = (await handle.fetchHistory()).events ?? [];
    const { raw } = await handle.describe();
    return (workflowTaskOpen(events) ? 1 : 0) + (raw.pendingActivities?.length ?? 0);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 0;
    throw err;
  }
}

function workflowTaskOpen(events: temporal.api.history.v1.IHistoryEvent[]): boolean {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes) return true;
    if (
      e.workflowTaskCompletedEventAttributes ||
      e.workflowTaskFailedEventAttributes ||
      e.workflowTaskTimedOutEventAttributes
    )
      return false;
  }
  return false;
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** Bundle workflow code once per path for the whole mocha process. */
export function workflowBundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** A workflow id / task queue unique to this test, readable in the test server's logs. */
export function uniqueId(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
  return `${slug}-${randomUUID().slice(0, 8)}`;
}

/**
 * Polls the server (for a state, not for a duration) until `check` holds; fails naming `what`
 * after `timeoutMs` of real time.
 */
export async function until(
  check: () => Promise<boolean>,
  what = 'condition',
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Shared Temporal test plumbing: the real time-skipping test server (the project-installed
 * binary, never a download), one environment and one workflow bundle per test file, and
 * workflow ids / task queues unique to each test.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
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
 * inside `runUntil` in a file that shares one environment between its tests. What a test
 * leaves running (a cart in its attribution window, a customer gate in its cooldown) has timers
 * whose workflow tasks nobody would poll once the worker stopped, and the time-skipping server
 * does not skip time while workflow tasks are outstanding: the next test would hang.
 *
 * Each workflow is first left to settle (no workflow task and no activity outstanding), then
 * terminated: the test server keeps the time-skipping lock of a task or activity that was
 * outstanding when its workflow was terminated, for ever. The server is asked what is open, so
 * workflows started by production code (the gate activity, the relay) are found too.
 */
export async function endOpenWorkflows(env: TestWorkflowEnvironment, timeoutMs = 15_000): Promise<void> {
  const namespace = env.namespace ?? 'default';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The test server implements only the legacy listing (not ListWorkflowExecutions).
    const { executions } = await env.client.workflowService.listOpenWorkflowExecutions({ namespace });
    const ids = (executions ?? []).flatMap((e) => (e.execution?.workflowId ? [e.execution.workflowId] : []));
    if (ids.length === 0) return;
    const busy = await Promise.all(ids.map((id) => hasOutstandingWork(env, id)));
    if (busy.some(Boolean)) {
      if (Date.now() > deadline) throw new Error(`workflows still busy after the test: ${ids.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await Promise.all(
      ids.map(async (id) => {
        try {
          await env.client.workflow.getHandle(id).terminate('test finished');
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // closed meanwhile
        }
      }),
    );
  }
}

async function hasOutstandingWork(env: TestWorkflowEnvironment, workflowId: string): Promise<boolean> {
  const handle = env.client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.raw.pendingActivities?.length) return true;
    const events = (await handle.fetchHistory()).events ?? [];
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
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
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

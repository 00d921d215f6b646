/**
 * The worker process: runs the workflows on the main task queue and each vendor's activities
 * on a queue of its own, capped by `maxTaskQueueActivitiesPerSecond` so that a burst of
 * abandoned carts queues up instead of drawing 429s.
 *
 * Production loads the workflow bundle built by `npm run build`; development bundles on the fly.
 * SIGINT/SIGTERM stop polling, let running tasks finish (WORKER_SHUTDOWN_GRACE), then exit.
 */
import fs from 'node:fs';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { loadConfigOrExit, type Config } from './config';
import { buildActivityDeps, type ActivityQueue } from './activities';
import { connectWorkerConnection } from './temporal/connection';
import { taskQueues } from './temporal/task-queues';
import { logger } from './logger';
import { dataConverterFor } from './temporal/payload-encryption';
import { installRuntime } from './temporal/runtime';
import { Client } from '@temporalio/client';
import { ensureEngagementSchedule } from './metrics/schedule';

export function workflowSource(config: Config): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (config.env === 'production') {
    if (!fs.existsSync(config.worker.bundlePath)) {
      throw new Error(
        `WORKFLOW_BUNDLE_PATH: no workflow bundle at ${config.worker.bundlePath}; run \`npm run build\` first`,
      );
    }
    return { workflowBundle: { codePath: config.worker.bundlePath } };
  }
  return { workflowsPath: require.resolve('./workflows') };
}

export interface RunningWorker {
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  modes: Record<string, string>;
  shutdown(): void;
}

export async function startWorkers(config: Config, connection?: NativeConnection): Promise<RunningWorker> {
  const conn = connection ?? (await connectWorkerConnection(config));
  const wired = await buildActivityDeps(config);
  const groups = wired.activities;
  const queues = taskQueues(config);
  const dataConverter = dataConverterFor(config.temporal.payloadKeys);
  const common = {
    connection: conn,
    namespace: config.temporal.namespace,
    dataConverter,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivityTaskExecutions,
  };
  const rates: Record<Exclude<ActivityQueue, 'workflows'>, number> = config.pacing;

  const workers: Worker[] = [
    await Worker.create({
      ...common,
      ...workflowSource(config),
      taskQueue: queues.workflows,
      activities: groups.workflows,
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTaskExecutions,
    }),
  ];
  for (const vendor of ['klaviyo', 'klaviyoProfiles', 'shopify', 'gorgias'] as const) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: queues[vendor],
        activities: groups[vendor],
        maxTaskQueueActivitiesPerSecond: rates[vendor],
      }),
    );
  }
  const done = Promise.all(workers.map((w) => w.run())).then(
    async () => {
      await wired.close();
      if (!connection) await conn.close();
    },
    async (err: unknown) => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await wired.close();
      throw err;
    },
  );
  // The hourly engagement sync (docs/metrics.md); its failure must not stop cart recovery.
  await ensureEngagementSchedule(
    new Client({ connection: conn, namespace: config.temporal.namespace, dataConverter }),
    config,
  ).catch((err: unknown) =>
    logger.error('engagement sync schedule could not be ensured; opens will not be synced', { err }),
  );
  logger.info('worker polling', { taskQueues: [...new Set(Object.values(queues))], modes: wired.modes });
  return {
    done,
    modes: wired.modes,
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

async function main() {
  const config = loadConfigOrExit();
  installRuntime(config, ['SIGINT', 'SIGTERM']);
  const worker = await startWorkers(config);
  await worker.done;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    logger.error('worker failed', { err });
    process.exit(1);
  });
}

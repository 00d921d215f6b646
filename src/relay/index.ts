/**
 * The webhook relay assembled from the configuration, as the API and the dead-letter command
 * run it. HTTP-free: `src/api/webhooks.ts` is the route in front of it.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db';
import type { LinkSigner } from '../metrics/links';
import type { MetricsStore } from '../metrics/store';
import type { PrometheusRegistry } from '../prometheus';
import { taskQueues } from '../temporal/task-queues';
import { RelayMetrics } from './metrics';
import { recoveryPolicyFor } from './policy';
import { WebhookRelay } from './relay';
import { RelayStore } from './store';

export function createRelay(deps: {
  config: Config;
  client: Client;
  database: Database;
  registry: PrometheusRegistry;
  /** Compliance erasures reach the metrics rows too. */
  metrics: { store: MetricsStore; signer: LinkSigner };
}): WebhookRelay {
  const store = new RelayStore(deps.database);
  const queues = taskQueues(deps.config);
  return new WebhookRelay({
    client: deps.client,
    store,
    settings: deps.config.relay,
    start: {
      workflowTaskQueue: queues.workflows,
      activityTaskQueues: {
        klaviyo: queues.klaviyo,
        klaviyoProfiles: queues.klaviyoProfiles,
        shopify: queues.shopify,
        gorgias: queues.gorgias,
      },
      policy: recoveryPolicyFor(deps.config),
    },
    metrics: new RelayMetrics(deps.registry, () => store.countPendingDeadLetters()),
    metricsStore: deps.metrics.store,
    recipientHash: (email) => deps.metrics.signer.recipientHash(email),
  });
}

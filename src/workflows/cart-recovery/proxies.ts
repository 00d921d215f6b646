/**
 * The cart's activity proxies: which queue each vendor's activities run on (each vendor is paced
 * by its own rate cap), their timeouts, and how retries and cancellation behave.
 */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import {
  FailureType,
  type GateActivities,
  type GorgiasActivities,
  type KlaviyoActivities,
  type LocalActivities,
  type ShopifyActivities,
  type TouchActivities,
} from '../contracts';
import type { ActivityTaskQueues } from '../messages';

export type CartActivities = ReturnType<typeof cartActivities>;

/** How long a touch's Shopify step may retry before the cart takes its send-time decision again. */
const VENDOR_STEP_TIMEOUT = '30m';

export function cartActivities(queues: ActivityTaskQueues) {
  const retry = {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    // A typed vendor refusal will not change on a retry: the run turns it into an outcome.
    nonRetryableErrorTypes: Object.values(FailureType),
  };
  return {
    // A send carries its window (`sendBy`: quiet hours or the next touch) and a retry past it
    // is refused, so the workflow decides again instead of mailing whenever Klaviyo is back; a
    // day bounds a send without a window. The Shopify step gives up after half an hour.
    klaviyo: proxyActivities<KlaviyoActivities>({
      taskQueue: queues.klaviyo,
      startToCloseTimeout: '1m',
      scheduleToCloseTimeout: '1d',
      retry,
      // An order that arrives while a send is queued or running cancels it, and the workflow
      // waits to learn whether the email went out (see the stop-on-order rule in docs).
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
    klaviyoProfiles: proxyActivities<Pick<KlaviyoActivities, 'enrichCustomer'>>({
      taskQueue: queues.klaviyoProfiles ?? queues.klaviyo,
      startToCloseTimeout: '1m',
      retry,
    }),
    shopify: proxyActivities<ShopifyActivities & TouchActivities>({
      taskQueue: queues.shopify,
      startToCloseTimeout: '1m',
      scheduleToCloseTimeout: VENDOR_STEP_TIMEOUT,
      retry,
    }),
    // Codes expire on their own (discountValidityMs): a revocation that cannot be done within
    // an hour is logged and given up rather than holding the cart open.
    shopifyCleanup: proxyActivities<ShopifyActivities & TouchActivities>({
      taskQueue: queues.shopify,
      startToCloseTimeout: '1m',
      scheduleToCloseTimeout: '1h',
      retry,
    }),
    gorgias: proxyActivities<GorgiasActivities>({
      taskQueue: queues.gorgias,
      startToCloseTimeout: '1m',
      scheduleToCloseTimeout: '1d',
      retry,
    }),
    // The gate activity only starts (or asks) a workflow: it runs beside the workflows, on the
    // workflow's own task queue (the default when none is named).
    gate: proxyActivities<GateActivities>({
      startToCloseTimeout: '30s',
      retry,
    }),
    // Metrics are local activities: all of them in one workflow task cost one action.
    metrics: proxyLocalActivities<LocalActivities>({
      startToCloseTimeout: '10s',
      scheduleToCloseTimeout: '1m',
      retry: { initialInterval: '1s', maximumInterval: '10s' },
    }),
  };
}

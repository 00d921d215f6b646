/**
 * Composition of the activities: `createActivities(deps)` builds every activity from its
 * dependencies (vendor clients or sandboxes, the metrics store) and returns them grouped by the
 * task queue the worker registers them on; `buildActivityDeps(config)` wires the real ones.
 * Tests call `createActivities` with their own deps.
 *
 * Each vendor's activities run on a queue of their own, so that each vendor is paced by its own
 * rate cap; what does not call a vendor runs beside the workflows, on the workflow task queue.
 */
import type { Config } from '../config';
import { buildMetricsActivities } from './metrics';
import { buildVendorActivities } from './vendors';
import type { TrackedLinks } from '../metrics/links';
import { connectClient } from '../temporal/connection';
import { createGateActivities } from './customer-gate';
import type {
  EngagementSyncActivities,
  GateActivities,
  GorgiasActivities,
  KlaviyoActivities,
  LocalActivities,
  ShopifyActivities,
  TouchActivities,
} from '../workflows/contracts';
import { prepareTouch, revokeDiscountCodes } from './touch';

/** The activities of each task queue, as the worker registers them. */
export interface ActivityGroups {
  /**
   * Beside the workflows, on the workflow task queue: the metric recording (a Temporal local
   * activity), the customer gate (it only starts a workflow) and the engagement sync.
   */
  workflows: LocalActivities & GateActivities & EngagementSyncActivities;
  /**
   * Klaviyo events. `enrichCustomer` is here too because carts started before the profiles queue
   * existed carry no `klaviyoProfiles` queue and enrich on this one.
   */
  klaviyo: KlaviyoActivities;
  /** Klaviyo profile look-ups, paced apart from events (see ActivityTaskQueues). */
  klaviyoProfiles: Pick<KlaviyoActivities, 'enrichCustomer'>;
  shopify: ShopifyActivities & TouchActivities;
  gorgias: GorgiasActivities;
}

export type ActivityQueue = keyof ActivityGroups;

export interface ActivityDeps {
  klaviyo: KlaviyoActivities;
  shopify: ShopifyActivities;
  gorgias: GorgiasActivities;
  /** The cart's metric facts (the metrics store). */
  metrics: LocalActivities;
  /** The engagement sync's activities (metrics); absent in tests that do not run the sync. */
  engagement?: EngagementSyncActivities;
  /** The frequency cap's lock (needs a Temporal client); absent in tests without a gate. */
  gate?: GateActivities;
  /** Wraps each email's restore URL in a tracked `/r/<token>` link (metrics); absent: sent as is. */
  links?: TrackedLinks;
}

/** Stands in for a dependency a test left out: a call fails naming what is missing. */
const notWired = (name: string, dep: keyof ActivityDeps) => (): Promise<never> =>
  Promise.reject(new Error(`${name}: not wired (ActivityDeps.${dep} is absent)`));

export function createActivities(deps: ActivityDeps): ActivityGroups {
  const klaviyo: KlaviyoActivities = {
    enrichCustomer: (input) => deps.klaviyo.enrichCustomer(input),
    sendRecoveryEmail: async (input) =>
      deps.klaviyo.sendRecoveryEmail(
        deps.links ? { ...input, restoreUrl: await deps.links.trackedLink(input) } : input,
      ),
  };
  const { engagement, gate } = deps;
  return {
    workflows: {
      recordMetric: (event) => deps.metrics.recordMetric(event),
      acquireCustomerGate: gate
        ? (input) => gate.acquireCustomerGate(input)
        : notWired('acquireCustomerGate', 'gate'),
      planEngagementSync: engagement
        ? () => engagement.planEngagementSync()
        : notWired('planEngagementSync', 'engagement'),
      syncEngagementWindow: engagement
        ? (input) => engagement.syncEngagementWindow(input)
        : notWired('syncEngagementWindow', 'engagement'),
      completeEngagementSync: engagement
        ? (input) => engagement.completeEngagementSync(input)
        : notWired('completeEngagementSync', 'engagement'),
    },
    klaviyo,
    klaviyoProfiles: { enrichCustomer: (input) => klaviyo.enrichCustomer(input) },
    shopify: {
      lookupVariants: (input) => deps.shopify.lookupVariants(input),
      issueDiscountCode: (input) => deps.shopify.issueDiscountCode(input),
      revokeDiscountCode: (input) => deps.shopify.revokeDiscountCode(input),
      prepareTouch: (input) => prepareTouch(deps.shopify, input),
      revokeDiscountCodes: (input) => revokeDiscountCodes(deps.shopify, input),
    },
    gorgias: { createSupportTicket: (input) => deps.gorgias.createSupportTicket(input) },
  };
}

export interface WiredActivities {
  activities: ActivityGroups;
  /** Human-readable mode of each vendor (live or sandbox), printed at start. */
  modes: Record<string, string>;
  close(): Promise<void>;
}

/** Real dependencies for the worker, chosen by the configuration. */
export async function buildActivityDeps(config: Config): Promise<WiredActivities> {
  const vendors = buildVendorActivities(config);
  const metrics = await buildMetricsActivities(config);
  // The customer gate starts workflows, so the worker needs a client of its own.
  const client = await connectClient(config);
  return {
    activities: createActivities({
      ...vendors,
      metrics: metrics.recording,
      engagement: metrics.engagement,
      links: metrics.links,
      gate: createGateActivities(client),
    }),
    modes: vendors.modes,
    close: async () => {
      await vendors.close();
      await metrics.close();
      await client.connection.close();
    },
  };
}

/**
 * Composition of the activities: `createActivities(deps)` builds every activity from its
 * dependencies (vendor clients or sandboxes, the metrics store); `buildActivityDeps(config)`
 * wires the real ones for the worker. Tests call `createActivities` with their own deps.
 *
 * Each activity runs on the task queue of the vendor it talks to (`ACTIVITY_QUEUE`), so that
 * each vendor is paced by its own rate cap.
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
import { prepareTouch } from './touch';

export type Activities = KlaviyoActivities &
  ShopifyActivities &
  TouchActivities &
  GorgiasActivities &
  LocalActivities &
  GateActivities &
  EngagementSyncActivities;
export type QueueKind = 'klaviyo' | 'klaviyoProfiles' | 'shopify' | 'gorgias' | 'local';

export const ACTIVITY_QUEUE: Record<keyof Activities, QueueKind> = {
  enrichCustomer: 'klaviyoProfiles',
  sendRecoveryEmail: 'klaviyo',
  lookupVariants: 'shopify',
  issueDiscountCode: 'shopify',
  revokeDiscountCode: 'shopify',
  prepareTouch: 'shopify',
  createSupportTicket: 'gorgias',
  recordMetric: 'local',
  acquireCustomerGate: 'local',
  planEngagementSync: 'local',
  syncEngagementWindow: 'local',
  completeEngagementSync: 'local',
};

export interface ActivityDeps {
  klaviyo: KlaviyoActivities;
  shopify: ShopifyActivities;
  gorgias: GorgiasActivities;
  local: LocalActivities;
  /** The engagement sync's activities (metrics); absent in tests that do not run the sync. */
  engagement?: EngagementSyncActivities;
  /** The frequency cap's lock (needs a Temporal client); absent in tests without a gate. */
  gate?: GateActivities;
  /** Wraps each email's restore URL in a tracked `/r/<token>` link (metrics); absent: sent as is. */
  links?: TrackedLinks;
}

const notWired = (name: string) => () =>
  Promise.reject(
    new Error(`${name}: the engagement sync activities are not wired (ActivityDeps.engagement)`),
  );

export const createActivities = (deps: ActivityDeps): Activities => ({
  enrichCustomer: (input) => deps.klaviyo.enrichCustomer(input),
  sendRecoveryEmail: async (input) =>
    deps.klaviyo.sendRecoveryEmail(
      deps.links ? { ...input, restoreUrl: await deps.links.trackedLink(input) } : input,
    ),
  lookupVariants: (input) => deps.shopify.lookupVariants(input),
  issueDiscountCode: (input) => deps.shopify.issueDiscountCode(input),
  revokeDiscountCode: (input) => deps.shopify.revokeDiscountCode(input),
  prepareTouch: (input) => prepareTouch(deps.shopify, input),
  createSupportTicket: (input) => deps.gorgias.createSupportTicket(input),
  recordMetric: (event) => deps.local.recordMetric(event),
  acquireCustomerGate: (input) =>
    deps.gate
      ? deps.gate.acquireCustomerGate(input)
      : Promise.reject(new Error('acquireCustomerGate: the customer gate is not wired (ActivityDeps.gate)')),
  planEngagementSync: () =>
    deps.engagement ? deps.engagement.planEngagementSync() : notWired('planEngagementSync')(),
  syncEngagementWindow: (input) =>
    deps.engagement ? deps.engagement.syncEngagementWindow(input) : notWired('syncEngagementWindow')(),
  completeEngagementSync: (input) =>
    deps.engagement ? deps.engagement.completeEngagementSync(input) : notWired('completeEngagementSync')(),
});

/** Activities grouped by the task queue they are registered on. */
export function activitiesByQueue(activities: Activities): Record<QueueKind, Partial<Activities>> {
  const groups: Record<QueueKind, Partial<Activities>> = {
    klaviyo: {},
    klaviyoProfiles: {},
    shopify: {},
    gorgias: {},
    local: {},
  };
  for (const [name, fn] of Object.entries(activities) as [keyof Activities, unknown][]) {
    (groups[ACTIVITY_QUEUE[name]] as Record<string, unknown>)[name] = fn;
  }
  return groups;
}

export interface WiredActivities {
  activities: Activities;
  /** Human-readable mode of each vendor (live or sandbox), printed at start. */
  modes: Record<string, string>;
  close(): Promise<void>;
}

/** Real dependencies for the worker, chosen by the configuration. */
export async function buildActivityDeps(config: Config): Promise<WiredActivities> {
  const vendors = await buildVendorActivities(config);
  const metrics = await buildMetricsActivities(config);
  // The customer gate starts workflows, so the worker needs a client of its own.
  const client = await connectClient(config);
  return {
    activities: createActivities({
      ...vendors,
      local: metrics.local,
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

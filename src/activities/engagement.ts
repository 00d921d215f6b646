/**
 * The engagement sync's activities: plan the window, read one metric's events page by page
 * (heartbeating the cursor, so a retry resumes where the last attempt stopped), join each event
 * to one of our touches and record it idempotently (Klaviyo's event id is the key), then move
 * the watermark. Re-reading a window therefore counts nothing twice.
 */
import { Context } from '@temporalio/activity';
import { logger } from '../logger';
import { tokenInUrl, type LinkSigner } from '../metrics/links';
import type { KlaviyoEngagementEvent, KlaviyoEngagementSource } from '../vendors/klaviyo/engagement';
import type { MetricsStore, TouchRef } from '../metrics/store';
import type {
  EngagementSyncActivities,
  EngagementSyncPlan,
  EngagementWindowCounts,
  EngagementWindowInput,
} from '../workflows/contracts';

export interface EngagementDeps {
  store: MetricsStore;
  signer: LinkSigner;
  /** Null: no engagement source (Klaviyo in sandbox mode). */
  source: KlaviyoEngagementSource | null;
  recoveryMetric: string;
  overlapMs: number;
  backfillMs: number;
  /** How far before an open the touch it belongs to may have been sent. */
  lookbackMs: number;
  now?: () => Date;
}

const wholeSeconds = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const SANDBOX_NOTE =
  'no engagement source: Klaviyo is in sandbox mode (KLAVIYO_PRIVATE_API_KEY is not set), so opens are not tracked; clicks on tracked links are still counted by /r/';

export function createEngagementActivities(deps: EngagementDeps): EngagementSyncActivities {
  const now = deps.now ?? (() => new Date());

  async function join(
    e: KlaviyoEngagementEvent,
    flowIds: string[],
  ): Promise<TouchRef | 'not-ours' | 'unmatched'> {
    const token = e.url ? tokenInUrl(e.url) : undefined;
    if (token) {
      try {
        const link = deps.signer.verify(token);
        // An expired link still identifies the touch that was clicked.
        return { shop: link.shop, checkoutToken: link.checkoutToken, touch: link.touch };
      } catch {
        // not signed by us: fall through to the flow check
      }
    }
    if (!e.flowId || !flowIds.includes(e.flowId)) return 'not-ours';
    if (!e.email) return 'unmatched';
    const since = new Date(Date.parse(e.at) - deps.lookbackMs).toISOString();
    return (
      (await deps.store.latestTouchForRecipient(deps.signer.recipientHash(e.email), e.at, since)) ??
      'unmatched'
    );
  }

  return {
    async planEngagementSync(): Promise<EngagementSyncPlan> {
      // Whole seconds: the form Klaviyo's filter examples use (`2026-03-01T01:00:00Z`).
      const until = wholeSeconds(now().getTime());
      const watermark = await deps.store.syncedUntil('klaviyo');
      const from = wholeSeconds(
        watermark ? Date.parse(watermark) - deps.overlapMs : Date.parse(until) - deps.backfillMs,
      );
      const empty = { from, until, windows: [], flowIds: [] };
      if (!deps.source) return { source: null, notes: [SANDBOX_NOTE], ...empty };
      const { metricIds, flowIds } = await deps.source.engagementMetrics();
      const notes: string[] = [];
      const windows: EngagementSyncPlan['windows'] = [];
      if (flowIds.length === 0) {
        notes.push(
          `no Klaviyo flow is triggered by the metric "${deps.recoveryMetric}" yet: opens cannot be joined to touches; only clicks on tracked links are read`,
        );
      } else if (metricIds.open) windows.push({ kind: 'open', metricId: metricIds.open });
      if (metricIds.click) windows.push({ kind: 'click', metricId: metricIds.click });
      if (!metricIds.open && !metricIds.click) {
        notes.push(
          'the Klaviyo account has no "Opened Email" or "Clicked Email" metric yet (no email was opened or clicked)',
        );
      }
      return { source: 'klaviyo', notes, from, until, windows, flowIds };
    },

    async syncEngagementWindow(input: EngagementWindowInput): Promise<EngagementWindowCounts> {
      if (!deps.source) throw new Error(SANDBOX_NOTE);
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as
        { cursor: string | null; counts: EngagementWindowCounts } | undefined;
      const counts: EngagementWindowCounts = resumed?.counts ?? {
        read: 0,
        recorded: 0,
        duplicates: 0,
        unmatched: 0,
        notOurs: 0,
      };
      let cursor = resumed?.cursor ?? null;
      for (;;) {
        const page = await deps.source.eventsPage(
          input.kind,
          input.metricId,
          input.from,
          input.until,
          cursor,
        );
        for (const e of page.events) {
          counts.read++;
          const ref = await join(e, input.flowIds);
          if (ref === 'not-ours') counts.notOurs++;
          else if (ref === 'unmatched') counts.unmatched++;
          else {
            const result = await deps.store.recordEngagement({
              source: 'klaviyo',
              sourceId: e.id,
              kind: e.kind,
              ...ref,
              at: e.at,
              privacyOpen: e.privacyOpen,
            });
            if (result === 'recorded') counts.recorded++;
            else counts.duplicates++;
          }
        }
        cursor = page.next;
        ctx.heartbeat({ cursor, counts });
        if (!cursor) break;
      }
      logger.info('engagement window synced', {
        kind: input.kind,
        from: input.from,
        until: input.until,
        ...counts,
      });
      return counts;
    },

    async completeEngagementSync(input) {
      await deps.store.markSynced(input.source, input.until);
    },
  };
}

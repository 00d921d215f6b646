/**
 * Reads email engagement (Klaviyo's "Opened Email" and "Clicked Email" events) through the
 * official `klaviyo-api` SDK, for the engagement sync.
 *
 * Which events are ours: the recovery emails are sent by the merchant's Klaviyo flow triggered
 * by our recovery metric (KLAVIYO_RECOVERY_METRIC), so the sync asks Klaviyo which flows that
 * metric triggers and keeps the message events of those flows (`$flow` in the event properties).
 * A click on one of our tracked links (`URL` containing `/r/<token>`) is ours whatever the flow.
 */
import { EventsApi, MetricsApi, type GetEventResponseCollectionCompoundDocument } from 'klaviyo-api';
import { ApplicationFailure } from '@temporalio/common';
import { classifyTransport, unexpected, viewHttpError, type VendorErrorFacts } from '../failures';
import { KLAVIYO_CREDENTIAL, TimedApiKeySession } from './client';
import type { EngagementKind } from '../../workflows/contracts';

export const KLAVIYO_ENGAGEMENT_METRICS: Record<EngagementKind, string> = {
  open: 'Opened Email',
  click: 'Clicked Email',
};

export interface KlaviyoEngagementSettings {
  privateApiKey: string;
  baseUrl: string;
  timeoutMs: number;
  /** Name of the custom metric whose flow sends the recovery emails. */
  recoveryMetric: string;
}

export interface EngagementMetrics {
  /** Klaviyo metric id per engagement kind; absent when the account has no such metric yet. */
  metricIds: Partial<Record<EngagementKind, string>>;
  /** Flows triggered by the recovery metric. */
  flowIds: string[];
}

/** One engagement event as read from Klaviyo, before it is joined to a touch. */
export interface KlaviyoEngagementEvent {
  id: string;
  kind: EngagementKind;
  at: string;
  flowId: string | null;
  url: string | null;
  /** The recipient's email address (only used to compute the keyed recipient hash). */
  email: string | null;
  privacyOpen: boolean;
}

export interface EngagementPage {
  events: KlaviyoEngagementEvent[];
  /** Cursor of the next page, or null on the last page. */
  next: string | null;
}

export interface KlaviyoEngagementSource {
  engagementMetrics(): Promise<EngagementMetrics>;
  /** One page of a metric's events with `from <= datetime < until`, oldest first. */
  eventsPage(
    kind: EngagementKind,
    metricId: string,
    from: string,
    until: string,
    cursor: string | null,
  ): Promise<EngagementPage>;
}

function engagementFailure(operation: string, err: unknown): ApplicationFailure {
  const view = viewHttpError(err);
  const facts: VendorErrorFacts = { vendor: 'Klaviyo', operation, status: view?.status ?? null, codes: [] };
  if (!view) return unexpected(facts, err);
  const transport = classifyTransport(view, facts, {
    unauthorized: KLAVIYO_CREDENTIAL,
    forbidden: `${KLAVIYO_CREDENTIAL} (missing scope: the engagement sync needs events:read and metrics:read)`,
  });
  if (transport) return transport;
  return ApplicationFailure.create({
    message: `Klaviyo ${operation}: unexpected HTTP ${view.status}`,
    type: 'VendorRefused',
    nonRetryable: false,
  });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw engagementFailure(operation, err);
  }
}

/** `page[cursor]` of a JSON:API `links.next` URL (the SDK only unwraps https URLs itself). */
export function cursorOf(next: string | undefined | null): string | null {
  if (!next) return null;
  try {
    return new URL(next).searchParams.get('page[cursor]');
  } catch {
    return null;
  }
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True' || v === 1;
}

/** Apple Mail Privacy Protection flag; Klaviyo names it "Apple Privacy Open" (spellings vary). */
function privacyOpenOf(props: Record<string, unknown>): boolean {
  return [
    'Apple Privacy Open',
    '$apple_privacy_open',
    'apple_privacy_open',
    'machine_open',
    '$machine_open',
  ].some((k) => truthy(props[k]));
}

export function createKlaviyoEngagementSource(settings: KlaviyoEngagementSettings): KlaviyoEngagementSource {
  const session = new TimedApiKeySession(settings.privateApiKey, settings.timeoutMs);
  const metrics = new MetricsApi(session);
  const events = new EventsApi(session);
  metrics.basePath = settings.baseUrl;
  events.basePath = settings.baseUrl;

  return {
    async engagementMetrics() {
      const metricIds: Partial<Record<EngagementKind, string>> = {};
      const flowIds = new Set<string>();
      let cursor: string | null = null;
      // Few accounts have more than a few pages of metrics; the endpoint allows 10/s.
      for (let page = 0; page < 50; page++) {
        const { body } = await call('metric list', () =>
          metrics.getMetrics({
            fieldsMetric: ['name', 'integration'],
            include: ['flow-triggers'],
            ...(cursor ? { pageCursor: cursor } : {}),
          }),
        );
        for (const m of body.data) {
          const name = m.attributes?.name ?? '';
          const integration = (m.attributes?.integration ?? {}) as { key?: unknown; name?: unknown };
          const nativeKlaviyo =
            typeof integration.key !== 'string' || integration.key.toLowerCase() === 'klaviyo';
          for (const [kind, metricName] of Object.entries(KLAVIYO_ENGAGEMENT_METRICS) as [
            EngagementKind,
            string,
          ][]) {
            if (name === metricName && nativeKlaviyo && !metricIds[kind]) metricIds[kind] = m.id;
          }
          if (name === settings.recoveryMetric) {
            for (const flow of m.relationships?.flowTriggers?.data ?? []) flowIds.add(flow.id);
          }
        }
        cursor = cursorOf(body.links?.next);
        if (!cursor) break;
      }
      return { metricIds, flowIds: [...flowIds].sort() };
    },

    async eventsPage(kind, metricId, from, until, cursor) {
      const { body } = await call('event list', () =>
        events.getEvents({
          filter: `equals(metric_id,"${metricId}"),greater-or-equal(datetime,${from}),less-than(datetime,${until})`,
          fieldsEvent: ['datetime', 'event_properties'],
          fieldsProfile: ['email'],
          include: ['profile'],
          sort: 'datetime',
          pageSize: 200,
          ...(cursor ? { pageCursor: cursor } : {}),
        }),
      );
      return { events: toEngagementEvents(kind, body), next: cursorOf(body.links?.next) };
    },
  };
}

function toEngagementEvents(
  kind: EngagementKind,
  body: GetEventResponseCollectionCompoundDocument,
): KlaviyoEngagementEvent[] {
  const emails = new Map<string, string>();
  for (const inc of (body.included ?? []) as {
    type?: string;
    id?: string;
    attributes?: { email?: unknown };
  }[]) {
    if (inc.type === 'profile' && inc.id && typeof inc.attributes?.email === 'string')
      emails.set(inc.id, inc.attributes.email);
  }
  const out: KlaviyoEngagementEvent[] = [];
  for (const e of body.data) {
    const when =
      e.attributes?.datetime ?? (e.attributes?.timestamp ? new Date(e.attributes.timestamp * 1000) : null);
    if (!e.id || !when || Number.isNaN(new Date(when).getTime())) continue;
    const props = (e.attributes?.eventProperties ?? {}) as Record<string, unknown>;
    const profileId = e.relationships?.profile?.data?.id;
    out.push({
      id: e.id,
      kind,
      at: new Date(when).toISOString(),
      flowId: typeof props.$flow === 'string' && props.$flow ? props.$flow : null,
      url: typeof props.URL === 'string' ? props.URL : typeof props.url === 'string' ? props.url : null,
      email: profileId ? (emails.get(profileId) ?? null) : null,
      privacyOpen: kind === 'open' && privacyOpenOf(props),
    });
  }
  return out;
}

/**
 * The Klaviyo client: the few calls cart recovery needs, through the official `klaviyo-api`
 * SDK. `KlaviyoClient` is the seam: the live implementation below talks to Klaviyo (or a
 * test fake, through `baseUrl`), the sandbox implements it locally.
 *
 * The SDK's own retry loop is switched off (`numRetries: 0`): Temporal retries the activity,
 * durably and with the delay Klaviyo asked for, so a second, invisible loop in the process would
 * only hide 429s and stretch the activity past its timeout.
 */
import type { AxiosRequestConfig } from 'axios';
import {
  AccountsApi,
  ApiKeySession,
  EventsApi,
  FilterBuilder,
  ProfilesApi,
  RetryWithExponentialBackoff,
  SegmentsApi,
  type EventCreateQueryV2,
} from 'klaviyo-api';
import type { ApplicationFailure } from '@temporalio/common';
import { textOf } from '../html';
import {
  classifyTransport,
  invalidRecipient,
  unexpected,
  vendorRefused,
  viewHttpError,
  type VendorErrorFacts,
} from '../failures';

/** What enrichment reads from a Klaviyo profile (wire names are snake_case, these camelCase). */
export interface KlaviyoProfile {
  id: string;
  email: string;
  timezone: string | null;
  lastEventDate: string | null;
  predictive: {
    historicClv: number | null;
    predictedClv: number | null;
    historicNumberOfOrders: number | null;
    averageOrderValue: number | null;
    churnProbability: number | null;
  } | null;
  emailMarketing: {
    canReceiveEmailMarketing: boolean;
    consent: string;
    suppressionReasons: string[];
  } | null;
}

export interface KlaviyoEvent {
  metric: string;
  email: string;
  /** Klaviyo's dedupe key: a repeated unique_id for the same profile and metric is recorded once. */
  uniqueId: string;
  value: number;
  valueCurrency: string;
  properties: Record<string, unknown>;
}

export interface KlaviyoClient {
  /** Null when Klaviyo has never seen this email. */
  findProfileByEmail(email: string): Promise<KlaviyoProfile | null>;
  isProfileInSegment(profileId: string, segmentId: string): Promise<boolean>;
  /** The account's currency (the currency of CLV figures); null if unknown. */
  accountCurrency(): Promise<string | null>;
  /** Records the event; `reference` identifies it (Klaviyo answers 202 with no id, so: the unique_id). */
  createEvent(event: KlaviyoEvent): Promise<{ reference: string }>;
}

export interface KlaviyoLiveSettings {
  privateApiKey: string;
  baseUrl: string;
  timeoutMs: number;
}

export const KLAVIYO_CREDENTIAL = 'KLAVIYO_PRIVATE_API_KEY';

/**
 * The SDK's API-key session plus a per-request timeout (the SDK sets none), and no retries of
 * its own: Temporal retries the activity, honouring Retry-After.
 */
export class TimedApiKeySession extends ApiKeySession {
  constructor(
    apiKey: string,
    private readonly timeoutMs: number,
  ) {
    super(apiKey, new RetryWithExponentialBackoff({ numRetries: 0 }));
  }

  override applyToRequest(requestOptions: AxiosRequestConfig): void {
    super.applyToRequest(requestOptions);
    requestOptions.timeout = this.timeoutMs;
  }
}

interface JsonApiError {
  code?: unknown;
  detail?: unknown;
  source?: { pointer?: unknown; parameter?: unknown };
}

function jsonApiErrors(data: unknown): JsonApiError[] {
  const errors = (data as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(errors) ? (errors as JsonApiError[]) : [];
}

/** Klaviyo's answer as a typed failure; messages name codes and fields, never values. */
export function klaviyoFailure(operation: string, err: unknown): ApplicationFailure {
  const view = viewHttpError(err);
  const facts: VendorErrorFacts = { vendor: 'Klaviyo', operation, status: view?.status ?? null, codes: [] };
  if (!view) return unexpected(facts, err);
  const errors = jsonApiErrors(view.data);
  facts.codes = errors.map((e) => (typeof e.code === 'string' ? e.code : 'unknown'));
  const transport = classifyTransport(view, facts, {
    unauthorized: KLAVIYO_CREDENTIAL,
    forbidden: `${KLAVIYO_CREDENTIAL} (missing scope: it needs events:write, profiles:read, segments:read, accounts:read)`,
  });
  if (transport) return transport;
  const pointers = errors.map((e) => textOf(e.source?.pointer) || textOf(e.source?.parameter));
  const aboutEmail = pointers.some((p) => /email/i.test(p));
  if (aboutEmail)
    return invalidRecipient(facts, `the email address is not valid (${facts.codes.join(', ')})`);
  const where = pointers.filter(Boolean).join(', ');
  return vendorRefused(
    facts,
    `HTTP ${view.status}${facts.codes.length ? ` ${facts.codes.join(', ')}` : ''}${where ? ` at ${where}` : ''}`,
  );
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw klaviyoFailure(operation, err);
  }
}

export function createKlaviyoClient(settings: KlaviyoLiveSettings): KlaviyoClient {
  const session = new TimedApiKeySession(settings.privateApiKey, settings.timeoutMs);
  const profiles = new ProfilesApi(session);
  const events = new EventsApi(session);
  const segments = new SegmentsApi(session);
  const accounts = new AccountsApi(session);
  for (const api of [profiles, events, segments, accounts]) api.basePath = settings.baseUrl;
  let currency: Promise<string | null> | undefined;

  return {
    async findProfileByEmail(email) {
      const { body } = await call('profile lookup', () =>
        profiles.getProfiles({
          filter: new FilterBuilder().equals('email', email).build(),
          additionalFieldsProfile: ['predictive_analytics', 'subscriptions'],
          pageSize: 1,
        }),
      );
      const profile = body.data[0];
      if (!profile?.id) return null;
      const attrs = profile.attributes;
      const pa = attrs.predictiveAnalytics;
      const marketing = attrs.subscriptions?.email?.marketing;
      return {
        id: profile.id,
        email: attrs.email ?? email,
        timezone: attrs.location?.timezone ?? null,
        lastEventDate: attrs.lastEventDate ? new Date(attrs.lastEventDate).toISOString() : null,
        predictive: pa
          ? {
              historicClv: pa.historicClv ?? null,
              predictedClv: pa.predictedClv ?? null,
              historicNumberOfOrders: pa.historicNumberOfOrders ?? null,
              averageOrderValue: pa.averageOrderValue ?? null,
              churnProbability: pa.churnProbability ?? null,
            }
          : null,
        emailMarketing: marketing
          ? {
              canReceiveEmailMarketing: marketing.canReceiveEmailMarketing,
              consent: marketing.consent,
              suppressionReasons: (marketing.suppression ?? []).map((s) => String(s.reason)),
            }
          : null,
      };
    },

    async isProfileInSegment(profileId, segmentId) {
      const { body } = await call('VIP segment check', () =>
        segments.getProfileIdsForSegment(segmentId, {
          filter: new FilterBuilder().equals('profile_id', profileId).build(),
          pageSize: 1,
        }),
      );
      return body.data.some((member) => member.id === profileId);
    },

    accountCurrency() {
      // Once per process: the account's currency does not change, and the endpoint allows 1/s.
      currency ??= call('account lookup', () =>
        accounts.getAccounts({ fieldsAccount: ['preferred_currency'] }),
      ).then(
        ({ body }) => body.data[0]?.attributes.preferredCurrency ?? null,
        (err: unknown) => {
          currency = undefined;
          throw err;
        },
      );
      return currency;
    },

    async createEvent(event) {
      const query: EventCreateQueryV2 = {
        data: {
          type: 'event',
          attributes: {
            properties: event.properties,
            value: event.value,
            valueCurrency: event.valueCurrency,
            uniqueId: event.uniqueId,
            metric: { data: { type: 'metric', attributes: { name: event.metric } } },
            profile: { data: { type: 'profile', attributes: { email: event.email } } },
          },
        },
      };
      await call('event creation', () => events.createEvent(query));
      return { reference: `klaviyo:${event.metric}:${event.uniqueId}` };
    },
  };
}

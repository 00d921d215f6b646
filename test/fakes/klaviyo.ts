/**
 * A local Klaviyo that checks what Klaviyo checks: the `Klaviyo-API-Key` authorization, a
 * `revision` header, the JSON:API accept type and body shapes, email validity; dedupes events on
 * (profile, metric, unique_id) like Klaviyo; answers 401/403/429/5xx in Klaviyo's error format.
 */
import type { Request } from 'express';
import { FakeVendor, type Answer } from './server';

export interface FakeProfile {
  id: string;
  email: string;
  firstName?: string;
  timezone?: string;
  lastEventDate?: string;
  predictive?: {
    historic_clv?: number;
    predicted_clv?: number;
    total_clv?: number;
    historic_number_of_orders?: number;
    predicted_number_of_orders?: number;
    average_order_value?: number;
    churn_probability?: number;
  };
  consent?: 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'NEVER_SUBSCRIBED';
  suppression?: { reason: string; timestamp: string }[];
  segments?: string[];
}

export interface RecordedEvent {
  metric: string;
  email: string;
  uniqueId: string;
  value: number | undefined;
  valueCurrency: string | undefined;
  properties: Record<string, unknown>;
}

const EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;.]+(\.[^\s@"<>,;.]+)*\.[A-Za-z]{2,}$/;
const REVISION = /^\d{4}-\d{2}-\d{2}(\.pre)?$/;

const error = (status: number, code: string, detail: string, pointer?: string) => ({
  status,
  body: {
    errors: [
      {
        id: `err-${Math.random().toString(16).slice(2, 10)}`,
        status,
        code,
        title: code.replace(/_/g, ' '),
        detail,
        ...(pointer ? { source: { pointer } } : {}),
      },
    ],
  },
});

export class FakeKlaviyo extends FakeVendor {
  readonly profiles = new Map<string, FakeProfile>();
  /** Every event Klaviyo recorded (after dedupe). */
  readonly events: RecordedEvent[] = [];
  /** Scopes the key lacks; a call needing one answers 403. */
  readonly missingScopes = new Set<string>();
  preferredCurrency = 'USD';

  constructor(readonly apiKey: string) {
    super();
    this.app.get('/api/profiles', (req, res) =>
      this.answer('getProfiles', req, res, () => this.guard(req, 'profiles:read') ?? this.getProfiles(req)),
    );
    this.app.get('/api/segments/:id/relationships/profiles', (req, res) =>
      this.answer(
        'getSegmentMembers',
        req,
        res,
        () => this.guard(req, 'segments:read') ?? this.segmentMembers(req),
      ),
    );
    this.app.get('/api/accounts', (req, res) =>
      this.answer('getAccounts', req, res, () => this.guard(req, 'accounts:read') ?? this.accounts()),
    );
    this.app.post('/api/events', (req, res) =>
      this.answer('createEvent', req, res, () => this.guard(req, 'events:write') ?? this.createEvent(req)),
    );
  }

  protected errorBody(status: number): unknown {
    const codes: Record<number, string> = {
      429: 'throttled',
      500: 'error',
      502: 'error',
      503: 'service_unavailable',
    };
    return error(status, codes[status] ?? 'error', 'scripted').body;
  }

  addProfile(profile: FakeProfile): void {
    this.profiles.set(profile.email.toLowerCase(), profile);
  }

  /** Authentication, revision and content negotiation, as Klaviyo checks them. */
  private guard(req: Request, scope: string): Answer | undefined {
    const auth = req.get('authorization');
    if (!auth) return error(401, 'not_authenticated', 'Authentication credentials were not provided.');
    if (auth !== `Klaviyo-API-Key ${this.apiKey}`)
      return error(401, 'authentication_failed', 'Incorrect authentication credentials.');
    const revision = req.get('revision');
    if (!revision || !REVISION.test(revision))
      return error(400, 'invalid_revision', 'A valid revision header is required.');
    if (!(req.get('accept') ?? '').includes('application/vnd.api+json')) {
      return error(406, 'not_acceptable', 'Accept must allow application/vnd.api+json.');
    }
    if (this.missingScopes.has(scope))
      return error(403, 'permission_denied', `This API key is missing the ${scope} scope.`);
    return undefined;
  }

  private query(req: Request): URLSearchParams {
    return new URL(req.originalUrl, 'http://fake').searchParams;
  }

  private getProfiles(req: Request): Answer {
    const q = this.query(req);
    const filter = q.get('filter') ?? '';
    const m = /^equals\(email,"((?:[^"\\]|\\.)*)"\)$/.exec(filter);
    if (filter && !m) return error(400, 'invalid', `Invalid filter: ${filter}`, undefined);
    const size = Number(q.get('page[size]') ?? 20);
    if (!(size >= 1 && size <= 100)) return error(400, 'invalid', 'page[size] must be 1..100');
    const extra = (q.get('additional-fields[profile]') ?? '').split(',').filter(Boolean);
    for (const field of extra) {
      if (!['subscriptions', 'predictive_analytics'].includes(field))
        return error(400, 'invalid', `Unknown additional field ${field}`);
    }
    const email = m ? (JSON.parse(`"${m[1]}"`) as string) : undefined;
    const profile = email ? this.profiles.get(email.toLowerCase()) : undefined;
    const data = profile
      ? [
          {
            type: 'profile',
            id: profile.id,
            attributes: {
              email: profile.email,
              first_name: profile.firstName ?? null,
              last_event_date: profile.lastEventDate ?? null,
              location: { timezone: profile.timezone ?? null },
              properties: {},
              ...(extra.includes('subscriptions')
                ? {
                    subscriptions: {
                      email: {
                        marketing: {
                          can_receive_email_marketing:
                            (profile.consent ?? 'NEVER_SUBSCRIBED') === 'SUBSCRIBED' &&
                            !(profile.suppression ?? []).length,
                          consent: profile.consent ?? 'NEVER_SUBSCRIBED',
                          suppression: profile.suppression ?? [],
                          list_suppressions: [],
                        },
                      },
                    },
                  }
                : {}),
              ...(extra.includes('predictive_analytics')
                ? { predictive_analytics: profile.predictive ?? {} }
                : {}),
            },
            links: { self: `${this.url}/api/profiles/${profile.id}/` },
          },
        ]
      : [];
    return {
      status: 200,
      body: { data, links: { self: `${this.url}${req.originalUrl}`, next: null, prev: null } },
    };
  }

  private segmentMembers(req: Request): Answer {
    const filter = this.query(req).get('filter') ?? '';
    const m = /^equals\(profile_id,"([^"]+)"\)$/.exec(filter);
    if (filter && !m) return error(400, 'invalid', `Invalid filter: ${filter}`);
    const segment = String(req.params.id);
    const members = [...this.profiles.values()].filter(
      (p) => (p.segments ?? []).includes(segment) && (!m || p.id === m[1]),
    );
    return {
      status: 200,
      body: {
        data: members.map((p) => ({ type: 'profile', id: p.id })),
        links: { self: '', next: null, prev: null },
      },
    };
  }

  private accounts(): Answer {
    return {
      status: 200,
      body: {
        data: [
          {
            type: 'account',
            id: 'AbC123',
            attributes: {
              contact_information: { default_sender_name: 'Shop', default_sender_email: 'shop@example.com' },
              industry: 'Retail',
              timezone: 'UTC',
              preferred_currency: this.preferredCurrency,
              public_api_key: 'AbC123',
              locale: 'en-US',
            },
            links: { self: `${this.url}/api/accounts/AbC123/` },
          },
        ],
        links: { self: '', next: null, prev: null },
      },
    };
  }

  private createEvent(req: Request): Answer {
    if (!(req.get('content-type') ?? '').includes('json'))
      return error(415, 'unsupported_media_type', 'JSON expected');
    const body = req.body as { data?: { type?: unknown; attributes?: Record<string, unknown> } } | undefined;
    const data = body?.data;
    if (data?.type !== 'event') return error(400, 'invalid', 'data.type must be event', '/data/type');
    const a = data.attributes ?? {};
    if (!a.properties || typeof a.properties !== 'object') {
      return error(400, 'invalid', 'properties is required', '/data/attributes/properties');
    }
    // SDK inputs are camelCase; the wire is snake_case. A camelCase key here means it was not serialised.
    for (const key of ['uniqueId', 'valueCurrency']) {
      if (key in a)
        return error(
          400,
          'invalid',
          `'${key}' is not a valid field for the resource 'event'.`,
          `/data/attributes/${key}`,
        );
    }
    const metric = (a.metric as { data?: { type?: unknown; attributes?: { name?: unknown } } } | undefined)
      ?.data;
    if (
      metric?.type !== 'metric' ||
      typeof metric.attributes?.name !== 'string' ||
      metric.attributes.name === ''
    ) {
      return error(
        400,
        'invalid',
        'A metric name is required',
        '/data/attributes/metric/data/attributes/name',
      );
    }
    const profile = (a.profile as { data?: { type?: unknown; attributes?: { email?: unknown } } } | undefined)
      ?.data;
    if (profile?.type !== 'profile')
      return error(400, 'invalid', 'A profile is required', '/data/attributes/profile');
    const email = profile.attributes?.email;
    if (typeof email !== 'string' || !EMAIL.test(email)) {
      return error(400, 'invalid', 'Invalid email address', '/data/attributes/profile/data/attributes/email');
    }
    const uniqueId = typeof a.unique_id === 'string' ? a.unique_id : new Date().toISOString().slice(0, 19);
    const duplicate = this.events.some(
      (e) =>
        e.email === email.toLowerCase() && e.metric === metric.attributes!.name && e.uniqueId === uniqueId,
    );
    if (!duplicate) {
      this.events.push({
        metric: metric.attributes.name,
        email: email.toLowerCase(),
        uniqueId,
        value: typeof a.value === 'number' ? a.value : undefined,
        valueCurrency: typeof a.value_currency === 'string' ? a.value_currency : undefined,
        properties: a.properties as Record<string, unknown>,
      });
    }
    return { status: 202 };
  }
}

/**
 * A fake of Klaviyo's read side for the engagement sync: `GET /api/metrics` (with flow
 * triggers) and `GET /api/events` (filter by metric and datetime, profile included, cursor
 * paging). It enforces the wire contract of docs/vendor-contracts: the API-key header, the
 * revision header, JSON:API accept header, the filter grammar we rely on, 429 with Retry-After.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';

export const FAKE_REVISION = '2026-07-15';

const queryText = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface FakeMetric {
  id: string;
  name: string;
  integrationKey?: string;
  flowTriggerIds?: string[];
}

export interface FakeEvent {
  id: string;
  metricId: string;
  datetime: string;
  profile: { id: string; email: string };
  properties: Record<string, unknown>;
}

export class KlaviyoEngagementFake {
  url = '';
  readonly metrics: FakeMetric[] = [];
  readonly events: FakeEvent[] = [];
  /** Requests seen, by path (for assertions about paging). */
  readonly requests: { path: string; query: Record<string, unknown> }[] = [];
  /** Largest page the fake answers, whatever page[size] asks (to exercise paging). */
  maxPageSize = 1000;
  /** Answer the next N requests with 429 and this Retry-After. */
  throttle = { remaining: 0, retryAfterSeconds: 1 };
  private server?: Server;

  constructor(private readonly apiKey: string) {}

  async start(): Promise<this> {
    const app = express();
    app.use((req, res, next) => {
      this.requests.push({ path: req.path, query: { ...req.query } });
      if (req.headers.authorization !== `Klaviyo-API-Key ${this.apiKey}`) {
        return this.error(res, 401, 'not_authenticated', 'Incorrect authentication credentials.');
      }
      if (req.headers.revision !== FAKE_REVISION) {
        return this.error(
          res,
          400,
          'invalid',
          `Missing or unsupported revision header (got ${String(req.headers.revision)})`,
        );
      }
      if (!String(req.headers.accept ?? '').includes('application/vnd.api+json')) {
        return this.error(res, 406, 'not_acceptable', 'Accept must be application/vnd.api+json');
      }
      if (this.throttle.remaining > 0) {
        this.throttle.remaining--;
        res.set('Retry-After', String(this.throttle.retryAfterSeconds));
        return this.error(res, 429, 'throttled', 'Request was throttled.');
      }
      res.set({ 'RateLimit-Limit': '350', 'RateLimit-Remaining': '349', 'RateLimit-Reset': '1' });
      next();
    });
    app.get('/api/metrics', (req, res) => this.listMetrics(req, res));
    app.get('/api/events', (req, res) => this.listEvents(req, res));
    app.use((req, res) => this.error(res, 404, 'not_found', `No route ${req.method} ${req.path}`));
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private error(res: Response, status: number, code: string, detail: string) {
    res
      .status(status)
      .type('application/vnd.api+json')
      .send(JSON.stringify({ errors: [{ id: 'fake', status, code, title: code, detail, source: {} }] }));
  }

  private json(res: Response, body: unknown) {
    res.status(200).type('application/vnd.api+json').send(JSON.stringify(body));
  }

  private listMetrics(req: Request, res: Response) {
    const include = queryText(req.query.include);
    if (include && include !== 'flow-triggers')
      return this.error(res, 400, 'invalid', `Unsupported include ${include}`);
    this.json(res, {
      data: this.metrics.map((m) => ({
        type: 'metric',
        id: m.id,
        attributes: {
          name: m.name,
          created: '2025-01-01T00:00:00+00:00',
          updated: '2025-01-01T00:00:00+00:00',
          integration: {
            object: 'integration',
            id: 'x',
            key: m.integrationKey ?? 'klaviyo',
            name: 'Klaviyo',
          },
        },
        relationships: include
          ? { 'flow-triggers': { data: (m.flowTriggerIds ?? []).map((id) => ({ type: 'flow', id })) } }
          : undefined,
        links: { self: `${this.url}/api/metrics/${m.id}` },
      })),
      links: { self: `${this.url}/api/metrics`, next: null, prev: null },
    });
  }

  private listEvents(req: Request, res: Response) {
    const filter = queryText(req.query.filter);
    // The grammar the sync relies on, and nothing looser (unknown filters are Klaviyo 400s).
    const m =
      /^equals\(metric_id,"([^"]+)"\),greater-or-equal\(datetime,(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\),less-than\(datetime,(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\)$/.exec(
        filter,
      );
    if (!m) return this.error(res, 400, 'invalid', `Invalid filter: ${filter}`);
    const [, metricId, fromRaw, untilRaw] = m as unknown as [string, string, string, string];
    const from = Date.parse(fromRaw);
    const until = Date.parse(untilRaw);
    if (Number.isNaN(from) || Number.isNaN(until))
      return this.error(res, 400, 'invalid', 'Invalid datetime in filter');
    if (req.query.sort !== undefined && req.query.sort !== 'datetime')
      return this.error(res, 400, 'invalid', 'Unsupported sort');
    const requested = Number(req.query['page[size]'] ?? 200);
    if (!Number.isInteger(requested) || requested < 1 || requested > 1000) {
      return this.error(res, 400, 'invalid', 'page[size] must be 1..1000');
    }
    const size = Math.min(requested, this.maxPageSize);
    const offset = Number(req.query['page[cursor]'] ?? 0);
    const matching = this.events
      .filter(
        (e) => e.metricId === metricId && Date.parse(e.datetime) >= from && Date.parse(e.datetime) < until,
      )
      .sort((a, b) => Date.parse(a.datetime) - Date.parse(b.datetime));
    const page = matching.slice(offset, offset + size);
    const includeProfile = queryText(req.query.include).split(',').includes('profile');
    const next = offset + size < matching.length ? offset + size : null;
    const nextUrl = new URL(`${this.url}/api/events`);
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') nextUrl.searchParams.set(k, v);
    if (next !== null) nextUrl.searchParams.set('page[cursor]', String(next));
    this.json(res, {
      data: page.map((e) => ({
        type: 'event',
        id: e.id,
        attributes: {
          timestamp: Math.floor(Date.parse(e.datetime) / 1000),
          event_properties: e.properties,
          datetime: new Date(e.datetime).toISOString().replace('.000Z', '+00:00'),
          uuid: `uuid-${e.id}`,
        },
        relationships: {
          profile: { data: { type: 'profile', id: e.profile.id } },
          metric: { data: { type: 'metric', id: e.metricId } },
        },
        links: { self: `${this.url}/api/events/${e.id}` },
      })),
      included: includeProfile
        ? [...new Map(page.map((e) => [e.profile.id, e.profile])).values()].map((p) => ({
            type: 'profile',
            id: p.id,
            attributes: { email: p.email },
            links: { self: `${this.url}/api/profiles/${p.id}` },
          }))
        : undefined,
      links: { self: `${this.url}/api/events`, next: next === null ? null : nextUrl.toString(), prev: null },
    });
  }
}

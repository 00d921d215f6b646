import assert from 'node:assert/strict';
import os from 'node:os';
import { ConfigError, loadConfig } from '../src/config';
import { assertDashboardAuth, DashboardAuthError } from '../src/api/dashboard/auth';
import { workflowUiUrl } from '../src/api/dashboard';
import { parseFilter } from '../src/api/dashboard/filter';
import { startMetricsApp, TEST_DASHBOARD_TOKEN, type MetricsApp } from './helpers/metrics-app';
import { cartEvents } from './helpers/metric-events';
import type { MetricsSummary } from '../src/metrics/store';

type SummaryJson = Omit<MetricsSummary, 'recentCarts'> & {
  recentCarts: (MetricsSummary['recentCarts'][number] & { workflowUrl: string | null })[];
};

const RANGE = 'from=2026-03-01&to=2026-03-31';
const bearer = { authorization: `Bearer ${TEST_DASHBOARD_TOKEN}` };

async function seed(app: MetricsApp) {
  for (const e of [
    ...cartEvents({
      shop: 'a.myshopify.com',
      token: 'a1',
      segment: 'premium',
      value: '250.00',
      abandonedAt: '2026-03-03T10:00:00Z',
      touches: 2,
      order: { revenue: '240.00', at: '2026-03-04T10:00:00Z', touch: 2 },
    }),
    ...cartEvents({
      shop: 'a.myshopify.com',
      token: 'a2',
      segment: 'welcome',
      abandonedAt: '2026-03-03T11:00:00Z',
      touches: 3,
    }),
    ...cartEvents({
      shop: 'b.myshopify.com',
      token: 'b1',
      segment: 'loyalty',
      currency: 'EUR',
      abandonedAt: '2026-03-05T09:00:00Z',
      touches: 1,
      order: { revenue: '80.00', at: '2026-03-05T15:00:00Z', touch: 1 },
    }),
    ...cartEvents({ shop: 'a.myshopify.com', token: 'old', abandonedAt: '2026-02-20T10:00:00Z', touches: 1 }),
  ]) {
    await app.store.record(e);
  }
}

describe('dashboard and JSON API', () => {
  let app: MetricsApp;
  afterEach(async () => {
    await app?.close();
  });

  describe('access', () => {
    it('requires the token on the page and the JSON API', async () => {
      app = await startMetricsApp();
      for (const path of ['/dashboard', '/api/metrics/summary', '/api/metrics/shops']) {
        assert.equal((await fetch(`${app.url}${path}`)).status, 401, path);
        assert.equal(
          (await fetch(`${app.url}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } }))
            .status,
          401,
          path,
        );
        assert.equal((await fetch(`${app.url}${path}`, { headers: bearer })).status, 200, path);
      }
    });

    it('takes the token once from the address and keeps it in an HttpOnly cookie', async () => {
      app = await startMetricsApp();
      const first = await fetch(`${app.url}/dashboard?token=${TEST_DASHBOARD_TOKEN}`);
      assert.equal(first.status, 200);
      const cookie = first.headers.get('set-cookie')!;
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
      const again = await fetch(`${app.url}/dashboard`, { headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(again.status, 200);
    });

    it('accepts basic auth when a user and password are configured, and asks for it otherwise', async () => {
      app = await startMetricsApp({
        DASHBOARD_TOKEN: '',
        DASHBOARD_USER: 'owner',
        DASHBOARD_PASSWORD: 'correct horse battery',
      });
      const denied = await fetch(`${app.url}/dashboard`, {
        headers: { authorization: `Basic ${Buffer.from('owner:wrong').toString('base64')}` },
      });
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get('www-authenticate')!, /^Basic realm=/);
      const ok = await fetch(`${app.url}/dashboard`, {
        headers: { authorization: `Basic ${Buffer.from('owner:correct horse battery').toString('base64')}` },
      });
      assert.equal(ok.status, 200);
    });

    it('refuses to start when the dashboard would be exposed without credentials', () => {
      const production = loadConfig({ NODE_ENV: 'production', LINK_SIGNING_SECRET: 'x'.repeat(32) });
      assert.equal(production.dashboard.auth, 'required');
      assert.throws(
        () => assertDashboardAuth(production),
        (err: Error) => {
          assert.ok(err instanceof DashboardAuthError);
          assert.match(err.message, /DASHBOARD_TOKEN/);
          assert.match(err.message, /DASHBOARD_USER and DASHBOARD_PASSWORD/);
          return true;
        },
      );
      assert.throws(
        () =>
          loadConfig({
            NODE_ENV: 'production',
            LINK_SIGNING_SECRET: 'x'.repeat(32),
            DASHBOARD_AUTH: 'local',
          }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /DASHBOARD_AUTH: "local" is allowed only with NODE_ENV=development/);
          return true;
        },
      );
      assert.throws(
        () => loadConfig({ DASHBOARD_USER: 'owner' }),
        /DASHBOARD_USER and DASHBOARD_PASSWORD: expected both/,
      );
      assert.doesNotThrow(() =>
        assertDashboardAuth(
          loadConfig({
            NODE_ENV: 'production',
            LINK_SIGNING_SECRET: 'x'.repeat(32),
            DASHBOARD_AUTH: 'disabled',
          }),
        ),
      );
    });

    it('in local mode answers this machine without credentials and nobody else', async function () {
      const lan = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      app = await startMetricsApp({ NODE_ENV: 'development', DASHBOARD_TOKEN: '' }, '0.0.0.0');
      assert.equal(app.config.dashboard.auth, 'local');
      const port = new URL(app.url).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/dashboard`)).status, 200);
      if (!lan) this.skip(); // no non-loopback interface on this machine to call from
      const remote = await fetch(`http://${lan}:${port}/dashboard`);
      assert.equal(remote.status, 403);
      assert.match(await remote.text(), /answers this machine only/);
    });

    it('serves no dashboard when disabled, but still redirects tracked links', async () => {
      app = await startMetricsApp({ DASHBOARD_AUTH: 'disabled' });
      assert.equal((await fetch(`${app.url}/dashboard`, { headers: bearer })).status, 404);
      assert.equal((await fetch(`${app.url}/r/garbage`)).status, 400);
    });
  });

  describe('figures', () => {
    beforeEach(async () => {
      app = await startMetricsApp();
      await seed(app);
    });

    it('summarises the range per shop filter, money per currency, with Temporal UI links', async () => {
      const all = (await (
        await fetch(`${app.url}/api/metrics/summary?${RANGE}`, { headers: bearer })
      ).json()) as SummaryJson;
      assert.equal(all.headline.abandoned, 3);
      assert.equal(all.headline.emailsSent, 6);
      assert.equal(all.headline.recovered, 2);
      assert.deepEqual(all.headline.revenue, [
        { currency: 'EUR', amount: '80.00' },
        { currency: 'USD', amount: '240.00' },
      ]);
      assert.equal(
        all.recentCarts.find((c) => c.checkoutToken === 'a1')?.workflowUrl,
        'http://temporal-ui.test:8233/namespaces/shop-ns/workflows/cart%3Aa.myshopify.com%3Aa1',
      );
      const a = (await (
        await fetch(`${app.url}/api/metrics/summary?${RANGE}&shop=a.myshopify.com`, { headers: bearer })
      ).json()) as SummaryJson;
      assert.equal(a.headline.abandoned, 2);
      assert.deepEqual(a.headline.revenue, [{ currency: 'USD', amount: '240.00' }]);
      assert.deepEqual(a.filter, {
        shop: 'a.myshopify.com',
        from: '2026-03-01',
        to: '2026-03-31',
        timeZone: 'UTC',
      });
      const shops = (await (await fetch(`${app.url}/api/metrics/shops`, { headers: bearer })).json()) as {
        shops: string[];
      };
      assert.deepEqual(shops.shops, ['a.myshopify.com', 'b.myshopify.com']);
    });

    it('links to the local dev server’s Web UI when npm start runs one', () => {
      const local = loadConfig({ TEMPORAL_DEV_UI_PORT: '18233', TEMPORAL_NAMESPACE: 'dev' });
      assert.equal(
        workflowUiUrl(local, 'cart:s:c'),
        'http://localhost:18233/namespaces/dev/workflows/cart%3As%3Ac',
      );
    });

    it('answers a bad filter with 400 naming the field', async () => {
      for (const [query, field] of [
        ['from=2026-13-01', /from: expected a real calendar date/],
        ['from=2026-03-10&to=2026-03-01', /from: expected from on or before to/],
        ['shop=%3Cscript%3E', /shop: expected a shop domain/],
      ] as const) {
        const res = await fetch(`${app.url}/api/metrics/summary?${query}`, { headers: bearer });
        assert.equal(res.status, 400, query);
        const body = (await res.json()) as { problems: string[] };
        assert.match(body.problems.join(' '), field);
      }
    });

    it('renders the figures in the page, behind a script nonce CSP', async () => {
      const res = await fetch(`${app.url}/dashboard?${RANGE}`, { headers: bearer });
      const csp = res.headers.get('content-security-policy')!;
      const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
      const html = await res.text();
      assert.match(html, new RegExp(`<script nonce="${nonce.replace(/[+/=]/g, '\\$&')}">`));
      assert.match(html, /data-metric="abandoned">3</);
      assert.match(html, /data-metric="emails-sent">6</);
      assert.match(html, /data-metric="recovery-rate">66\.7%</);
      assert.match(html, /€80\.00/);
      assert.match(html, /\$240\.00/);
      assert.match(html, /Apple Mail Privacy Protection/);
      assert.doesNotMatch(html, /data-metric="lift"/, 'no control group in this range');
    });

    it('escapes what it shows', async () => {
      for (const e of cartEvents({
        shop: 'a.myshopify.com',
        token: '<img src=x onerror=alert(1)>',
        abandonedAt: '2026-03-06T10:00:00Z',
      })) {
        await app.store.record(e);
      }
      const html = await (await fetch(`${app.url}/dashboard?${RANGE}`, { headers: bearer })).text();
      assert.doesNotMatch(html, /<img src=x/);
      assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    });
  });

  it('shows a readable empty state when nothing was abandoned in the range', async () => {
    app = await startMetricsApp();
    const html = await (
      await fetch(`${app.url}/dashboard?from=2026-03-01&to=2026-03-31`, { headers: bearer })
    ).text();
    assert.match(html, /data-empty-state/);
    assert.match(html, /No abandoned carts between 2026-03-01 and 2026-03-31/);
    const visible = html.replace(/<script[\s\S]*?<\/script>/g, '');
    assert.doesNotMatch(visible, /NaN|undefined|null/);
  });

  describe('days in METRICS_TIMEZONE', () => {
    const LA = 'America/Los_Angeles';

    it('shows and filters the days of the configured zone, and says which zone', async () => {
      app = await startMetricsApp({ METRICS_TIMEZONE: LA });
      // 23:30 PST on 3 March: 4 March in UTC.
      for (const e of cartEvents({
        shop: 'a.myshopify.com',
        token: 'late',
        abandonedAt: '2026-03-04T07:30:00Z',
      }))
        await app.store.record(e);

      const summary = (await (
        await fetch(`${app.url}/api/metrics/summary?from=2026-03-03&to=2026-03-03`, { headers: bearer })
      ).json()) as SummaryJson;
      assert.equal(summary.filter.timeZone, LA);
      assert.equal(summary.headline.abandoned, 1);

      const html = await (
        await fetch(`${app.url}/dashboard?from=2026-03-03&to=2026-03-03`, { headers: bearer })
      ).text();
      assert.match(html, /\(days in America\/Los_Angeles\)/);
      assert.match(html, /Abandoned \(America\/Los_Angeles\)/);
      assert.match(html, /<td>2026-03-03 23:30<\/td>/, 'the recent cart at its local time');
    });

    it('defaults to the last 30 days ending today in the zone, not in UTC', () => {
      // 05:00 UTC on 1 March is still 28 February (21:00) in Los Angeles.
      const now = Date.parse('2026-03-01T05:00:00Z');
      assert.deepEqual(parseFilter({}, LA, now), {
        ok: true,
        filter: { shop: undefined, from: '2026-01-30', to: '2026-02-28' },
      });
      assert.deepEqual(parseFilter({}, 'UTC', now), {
        ok: true,
        filter: { shop: undefined, from: '2026-01-31', to: '2026-03-01' },
      });
    });
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig } from '../src/config';
import { buildMetricsActivities, INVALID_METRIC } from '../src/activities/metrics';
import { createActivities } from '../src/activities';
import type { MetricEvent, RecoveryEmail } from '../src/workflows/contracts';
import { createLinkSigner, tokenInUrl } from '../src/metrics/links';
import { cartEvents } from './helpers/metric-events';

describe('metrics activities (buildMetricsActivities)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-activities-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('records the workflow’s facts in the app database, idempotently', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const metrics = await buildMetricsActivities(config);
    const events = cartEvents({ token: 'x1', abandonedAt: '2026-03-01T10:00:00Z', touches: 2 });
    for (const e of [...events, ...events]) await metrics.recording.recordMetric(e);
    await metrics.close();
    // Reopen: the facts were written to DATA_DIR's SQLite file, once each.
    const again = await buildMetricsActivities(config);
    const { default: Sqlite } = await import('better-sqlite3');
    const raw = new Sqlite(config.database.sqliteFile, { readonly: true });
    assert.equal(
      (raw.prepare('SELECT COUNT(*) AS n FROM metric_events').get() as { n: number }).n,
      events.length,
    );
    raw.close();
    await again.close();
  });

  it('fails an invalid fact without retries, naming the problem', async () => {
    const metrics = await buildMetricsActivities(loadConfig({ DATA_DIR: dataDir }));
    const abandoned = cartEvents({ token: 'bad', abandonedAt: '2026-03-01T10:00:00Z' })[0] as Extract<
      MetricEvent,
      { kind: 'abandoned' }
    >;
    await assert.rejects(
      metrics.recording.recordMetric({ ...abandoned, currency: 'dollars' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, INVALID_METRIC);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /three-letter ISO 4217 currency/);
        return true;
      },
    );
    await metrics.close();
  });

  it('generates the development link secret once and keeps it across restarts', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://recovery.example.com' });
    const first = await buildMetricsActivities(config);
    const email = {
      shop: 'demo.myshopify.com',
      checkoutToken: 'c1',
      touch: 1,
      restoreUrl: 'https://demo.myshopify.com/r',
      email: 'a@b.co',
    };
    const url = await first.links.trackedLink(email);
    await first.close();
    const secret = fs.readFileSync(path.join(dataDir, 'link-signing.secret'), 'utf8').trim();
    assert.equal(fs.statSync(path.join(dataDir, 'link-signing.secret')).mode & 0o777, 0o600);
    const second = await buildMetricsActivities(config);
    await second.close();
    assert.equal(fs.readFileSync(path.join(dataDir, 'link-signing.secret'), 'utf8').trim(), secret);
    assert.equal(createLinkSigner(secret).verify(tokenInUrl(url)!).checkoutToken, 'c1');
  });

  it('refuses production without LINK_SIGNING_SECRET', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', DASHBOARD_TOKEN: 'x'.repeat(16) }),
      /LINK_SIGNING_SECRET: expected a random secret/,
    );
  });

  it('wraps each email’s restore link in a tracked link before the Klaviyo send', async () => {
    const metrics = await buildMetricsActivities(
      loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://recovery.example.com' }),
    );
    const sent: RecoveryEmail[] = [];
    const unused = () => Promise.reject(new Error('not used in this test'));
    const activities = createActivities({
      klaviyo: {
        enrichCustomer: unused,
        sendRecoveryEmail: (email) => {
          sent.push(email);
          return Promise.resolve({ messageId: 'm1' });
        },
      },
      shopify: { lookupVariants: unused, issueDiscountCode: unused, revokeDiscountCode: unused },
      gorgias: { createSupportTicket: unused },
      metrics: metrics.recording,
      engagement: metrics.engagement,
      links: metrics.links,
    });
    await activities.klaviyo.sendRecoveryEmail({
      key: 'demo.myshopify.com:c9:touch-1:send',
      shop: 'demo.myshopify.com',
      checkoutToken: 'c9',
      email: 'ann@example.com',
      firstName: null,
      touch: 1,
      totalTouches: 4,
      segment: 'welcome',
      subject: 's',
      preheader: 'p',
      items: [],
      total: '10.00',
      currency: 'USD',
      restoreUrl: 'https://demo.myshopify.com/1/checkouts/c9/recover?key=k',
      discount: null,
    });
    assert.equal(sent.length, 1);
    assert.match(sent[0]!.restoreUrl, /^https:\/\/recovery\.example\.com\/r\/v1\./);
    await metrics.close();
  });
});

/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * seeded carts in, figures on the screen checked against the same seed computed independently,
 * the inline chart drawn, the shop filter applied through the form, screenshots saved to
 * test-artifacts/ (git-ignored; CI keeps them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startMetricsApp, TEST_DASHBOARD_TOKEN, type MetricsApp } from './helpers/metrics-app';
import { cartEvents, type CartSpec } from './helpers/metric-events';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');

/** 14 carts over five days, two shops, two currencies, a control group. */
function seedSpecs(): CartSpec[] {
  const specs: CartSpec[] = [];
  const at = (day: number, hour: number) => new Date(Date.UTC(2026, 2, day, hour)).toISOString();
  for (let i = 0; i < 8; i++) {
    const recovered = i % 3 === 0;
    specs.push({
      shop: 'alpha.myshopify.com',
      token: `usd-${i}`,
      segment: i % 2 === 0 ? 'welcome' : 'loyalty',
      value: `${40 + i * 10}.00`,
      abandonedAt: at(1 + (i % 5), 9 + i),
      touches: 1 + (i % 3),
      order: recovered
        ? { revenue: `${40 + i * 10}.00`, at: at(2 + (i % 5), 20), touch: 1 + (i % 3) }
        : undefined,
    });
  }
  for (let i = 0; i < 3; i++) {
    specs.push({
      shop: 'beta.myshopify.com',
      token: `eur-${i}`,
      segment: 'premium',
      currency: 'EUR',
      value: '310.50',
      abandonedAt: at(3, 8 + i),
      touches: 2,
      order: i === 0 ? { revenue: '299.99', at: at(4, 12), touch: 1 } : undefined,
    });
  }
  for (let i = 0; i < 3; i++) {
    specs.push({
      shop: 'alpha.myshopify.com',
      token: `ctl-${i}`,
      segment: 'welcome',
      control: true,
      abandonedAt: at(2, 10 + i),
      order: i === 0 ? { revenue: '55.00', at: at(3, 10), touch: null } : undefined,
    });
  }
  return specs;
}

/** The headline figures the page must show, computed from the seed (not from the store). */
function expectedFigures(specs: CartSpec[], shop?: string) {
  const carts = specs.filter((s) => !shop || s.shop === shop);
  const treated = carts.filter((s) => !s.control);
  const emailed = treated.filter((s) => (s.touches ?? 0) > 0);
  const recovered = treated.filter((s) => s.order);
  const revenue = new Map<string, number>();
  for (const s of recovered) {
    const cur = s.order!.currency ?? s.currency ?? 'USD';
    revenue.set(cur, Math.round(((revenue.get(cur) ?? 0) + Number(s.order!.revenue)) * 100) / 100);
  }
  const money = (cur: string, amount: number) =>
    new Intl.NumberFormat('en-US', { style: 'currency', currency: cur }).format(amount);
  const control = carts.filter((s) => s.control);
  const treatedRate = recovered.length / treated.length;
  const controlRate = control.length ? control.filter((s) => s.order).length / control.length : null;
  return {
    abandoned: String(carts.length),
    emailsSent: String(treated.reduce((n, s) => n + (s.touches ?? 0), 0)),
    recovered: String(recovered.length),
    recoveryRate: `${(treatedRate * 100).toFixed(1)}%`,
    revenue: [...revenue.keys()].sort().map((cur) => money(cur, revenue.get(cur)!)),
    perRecipient: [...revenue.keys()].sort().map((cur) => money(cur, revenue.get(cur)! / emailed.length)),
    lift: controlRate === null ? null : `+${((treatedRate - controlRate) * 100).toFixed(1)} pts`,
    revenueBars: new Set(
      recovered.map((s) => `${s.order!.at.slice(0, 10)}|${s.order!.currency ?? s.currency ?? 'USD'}`),
    ).size,
    currencies: new Set(recovered.map((s) => s.order!.currency ?? s.currency ?? 'USD')).size,
  };
}

describe('dashboard in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let app: MetricsApp;
  let page: Page;
  const specs = seedSpecs();

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: install the Debian package "chromium" (apt-get install chromium); .ci/run installs it`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    app = await startMetricsApp();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterEach(async () => {
    await page?.close();
    await app?.close();
  });

  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const lines = async (selector: string) =>
    (await page.locator(`${selector} .money`).allTextContents()).map((t) => t.trim());

  it('shows the seeded figures, chart and tables, and filters by shop', async () => {
    for (const spec of specs) for (const e of cartEvents(spec)) await app.store.record(e);
    // One click on a tracked link and one Klaviyo open, to light up the funnel.
    await app.store.recordEngagement({
      source: 'link',
      sourceId: 'c1',
      kind: 'click',
      shop: 'alpha.myshopify.com',
      checkoutToken: 'usd-0',
      touch: 1,
      at: '2026-03-01T12:00:00Z',
    });
    await app.store.recordEngagement({
      source: 'klaviyo',
      sourceId: 'o1',
      kind: 'open',
      shop: 'alpha.myshopify.com',
      checkoutToken: 'usd-1',
      touch: 1,
      at: '2026-03-02T12:00:00Z',
      privacyOpen: true,
    });

    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const res = await page.goto(
      `${app.url}/dashboard?from=2026-03-01&to=2026-03-31&token=${TEST_DASHBOARD_TOKEN}`,
    );
    assert.equal(res?.status(), 200);

    const all = expectedFigures(specs);
    assert.equal(await text('[data-metric="abandoned"]'), all.abandoned);
    assert.equal(await text('[data-metric="emails-sent"]'), all.emailsSent);
    assert.equal(await text('[data-metric="recovered"]'), all.recovered);
    assert.equal(await text('[data-metric="recovery-rate"]'), all.recoveryRate);
    assert.deepEqual(await lines('[data-metric="revenue"]'), all.revenue);
    assert.deepEqual(await lines('[data-metric="revenue-per-recipient"]'), all.perRecipient);
    assert.equal(await text('[data-metric="lift"]'), all.lift);
    assert.match(await text('[data-funnel="clicked"]'), /^1 /);

    // By touch: emails of touch n = emailable carts with at least n touches.
    const treated = specs.filter((sp) => !sp.control);
    for (const n of [1, 2, 3]) {
      const expected = treated.filter((sp) => (sp.touches ?? 0) >= n).length;
      assert.equal(await text(`tr[data-touch="${n}"] [data-col="sent"]`), String(expected), `touch ${n}`);
    }
    // By segment: carts per segment among emailable carts.
    for (const segment of ['welcome', 'loyalty', 'premium']) {
      const expected = treated.filter((sp) => sp.segment === segment).length;
      assert.equal(await text(`tr[data-segment="${segment}"] td:nth-child(2)`), String(expected), segment);
    }
    assert.match(await text('[data-mpp-note]'), /Apple Mail Privacy Protection/);

    // The inline chart ran under the page's CSP: one chart per currency, one bar per order day.
    await page.waitForSelector('#revenue-chart[data-rendered]');
    assert.equal(await page.getAttribute('#revenue-chart', 'data-rendered'), String(all.currencies));
    assert.equal(await page.locator('#revenue-chart svg rect').count(), all.revenueBars);
    assert.deepEqual(pageErrors, []);

    // Recent carts link to their workflow in the Temporal Web UI.
    const href = await page.getAttribute('tr[data-cart="usd-0"] a', 'href');
    assert.equal(
      href,
      'http://temporal-ui.test:8233/namespaces/shop-ns/workflows/cart%3Aalpha.myshopify.com%3Ausd-0',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // Filter through the form; the token now travels in the HttpOnly cookie.
    await page.selectOption('select[name="shop"]', 'beta.myshopify.com');
    await Promise.all([page.waitForURL(/shop=beta\.myshopify\.com/), page.click('button[type="submit"]')]);
    const beta = expectedFigures(specs, 'beta.myshopify.com');
    assert.equal(await text('[data-metric="abandoned"]'), beta.abandoned);
    assert.deepEqual(await lines('[data-metric="revenue"]'), beta.revenue);
    assert.equal(await page.locator('[data-metric="lift"]').count(), 0, 'no control group at beta');
    assert.equal(await page.locator('tr[data-segment]').count(), 1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-shop-filter.png'), fullPage: true });
  });

  it('shows a readable empty state', async () => {
    await page.goto(`${app.url}/dashboard?from=2026-03-01&to=2026-03-31&token=${TEST_DASHBOARD_TOKEN}`);
    assert.match(
      await text('[data-empty-state] h2'),
      /^No abandoned carts between 2026-03-01 and 2026-03-31$/,
    );
    assert.ok(await page.isVisible('[data-empty-state]'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-empty.png'), fullPage: true });
  });

  it('refuses the page without the token', async () => {
    const res = await page.goto(`${app.url}/dashboard`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.locator('[data-metric]').count(), 0);
  });
});

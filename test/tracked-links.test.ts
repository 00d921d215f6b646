import assert from 'node:assert/strict';
import { createLinkSigner, createTrackedLinks, TamperedLinkError, tokenInUrl } from '../src/metrics/links';
import { startMetricsApp, TEST_LINK_SECRET, type MetricsApp } from './helpers/metrics-app';
import { cartEvents } from './helpers/metric-events';

const DAY = 86_400_000;
const RESTORE = 'https://demo.myshopify.com/42/checkouts/abc123/recover?key=secretkey';

describe('tracked links /r/:token', () => {
  let app: MetricsApp;
  beforeEach(async () => {
    app = await startMetricsApp();
    for (const e of cartEvents({ token: 'abc123', abandonedAt: new Date().toISOString(), touches: 1 })) {
      await app.store.record(e);
    }
  });
  afterEach(async () => {
    await app.close();
  });

  const linkFor = (ttlMs = 30 * DAY, restoreUrl = RESTORE) =>
    createTrackedLinks({
      store: app.store,
      signer: app.signer,
      publicUrl: 'https://recovery.example.com/',
      ttlMs,
    }).trackedLink({
      shop: 'Demo.myshopify.com',
      checkoutToken: 'abc123',
      touch: 1,
      restoreUrl,
      email: 'ann@example.com',
    });
  const get = (tracked: string) => fetch(`${app.url}${new URL(tracked).pathname}`, { redirect: 'manual' });
  const clicks = async () =>
    (await app.store.summary({ from: '2000-01-01', to: '2100-01-01' })).byTouch[0]!.clicks.count;

  it('carries no personal data: shop, checkout token, touch and expiry only', async () => {
    const tracked = await linkFor();
    assert.match(tracked, /^https:\/\/recovery\.example\.com\/r\/v1\./);
    const payload = Buffer.from(tokenInUrl(tracked)!.split('.')[1]!, 'base64url').toString();
    assert.doesNotMatch(payload, /ann|example\.com|recover|secretkey/);
    assert.deepEqual((JSON.parse(payload) as unknown[]).slice(0, 3), ['demo.myshopify.com', 'abc123', 1]);
  });

  it('redirects a valid link to the restore link and records one click however often it is used', async () => {
    const tracked = await linkFor();
    const first = await get(tracked);
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), RESTORE);
    assert.equal(first.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(await clicks(), 1);
    assert.equal((await get(tracked)).status, 302);
    assert.equal(await clicks(), 1);
  });

  it('answers 400 to a tampered token and records nothing', async () => {
    const tracked = await linkFor();
    const token = tokenInUrl(tracked)!;
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify(['demo.myshopify.com', 'other-checkout', 1, 9_999_999_999]),
    ).toString('base64url');
    for (const bad of [
      `${v}.${forged}.${sig}`,
      `${v}.${payload}.${sig.slice(0, -2)}AA`,
      'v1.garbage',
      'not-a-token',
    ]) {
      const res = await fetch(`${app.url}/r/${bad}`, { redirect: 'manual' });
      assert.equal(res.status, 400, bad);
      assert.match(await res.text(), /not valid/);
    }
    assert.equal(await clicks(), 0);
  });

  it('answers an expired link with a friendly page that names only the shop', async () => {
    const tracked = await linkFor(-1_000);
    const res = await get(tracked);
    assert.equal(res.status, 410);
    const html = await res.text();
    assert.match(html, /This link has expired/);
    assert.match(html, /https:\/\/demo\.myshopify\.com\//);
    assert.doesNotMatch(html, /abc123|secretkey|recover/);
    assert.equal(await clicks(), 0);
  });

  it('sends the customer to the shop when the restore link is missing or not http(s)', async () => {
    const tracked = await linkFor(30 * DAY, 'javascript:alert(1)');
    const res = await get(tracked);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'https://demo.myshopify.com/');
    const unknown = app.signer.sign({
      shop: 'demo.myshopify.com',
      checkoutToken: 'never-registered',
      touch: 2,
      expiresAt: 9_999_999_999,
    });
    const res2 = await fetch(`${app.url}/r/${unknown}`, { redirect: 'manual' });
    assert.equal(res2.headers.get('location'), 'https://demo.myshopify.com/');
  });

  it('does not count HEAD requests from link checkers as clicks', async () => {
    const tracked = await linkFor();
    const res = await fetch(`${app.url}${new URL(tracked).pathname}`, { method: 'HEAD', redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(await clicks(), 0);
  });
});

describe('link signer', () => {
  it('rejects tokens signed with another secret', () => {
    const ours = createLinkSigner(TEST_LINK_SECRET);
    const theirs = createLinkSigner('another-secret-of-enough-length-0123456789');
    const token = theirs.sign({ shop: 's', checkoutToken: 'c', touch: 1, expiresAt: 9_999_999_999 });
    assert.throws(() => ours.verify(token), TamperedLinkError);
  });
  it('hashes recipients case-insensitively and never to the address itself', () => {
    const s = createLinkSigner(TEST_LINK_SECRET);
    assert.equal(s.recipientHash(' Ann@Example.com '), s.recipientHash('ann@example.com'));
    assert.doesNotMatch(s.recipientHash('ann@example.com'), /ann/);
  });
});

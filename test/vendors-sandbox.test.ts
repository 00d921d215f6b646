import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { FailureType, type RecoveryEmail } from '../src/workflows/contracts';
import { buildVendorActivities } from '../src/activities/vendors';
import { loadConfig } from '../src/config';
import { sandboxOutboxRouter } from '../src/api/sandbox-outbox';
import { recoveryEmailProperties } from '../src/vendors/klaviyo/email-properties';
import { Outbox } from '../src/vendors/sandbox/outbox';
import { sandboxPaths } from '../src/vendors/sandbox/paths';
import { SandboxShopify } from '../src/vendors/sandbox/shopify';
import { compileTemplate, TemplateError } from '../src/vendors/sandbox/template';
import { klaviyoTemplatePath } from '../src/vendors/templates';
import { escapeHtml } from '../src/vendors/html';
import { SEGMENTS } from '../src/workflows/policy';
import { rejectsWithFailure, tempDataDir } from './fakes/vendor-env';
import { SHOP, sampleCodeInput, sampleEmail, sampleTicket } from './fakes/samples';

describe('vendor sandbox (no credentials configured)', function () {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDataDir();
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const sandbox = () => buildVendorActivities(loadConfig({ DATA_DIR: dataDir }));

  it('is the default: every vendor runs in sandbox mode without credentials', () => {
    assert.deepEqual(sandbox().modes, { klaviyo: 'sandbox', shopify: 'sandbox', gorgias: 'sandbox' });
  });

  it('renders a readable email with the items, their images, the code and the restore link', async () => {
    const vendors = sandbox();
    const { messageId } = await vendors.klaviyo.sendRecoveryEmail(sampleEmail());
    const { emails } = await new Outbox(dataDir).list();
    assert.equal(emails.length, 1);
    assert.equal(messageId, `sandbox-outbox:${emails[0]!.id}`);
    assert.equal(emails[0]!.subject, 'Your cart misses you');
    assert.equal(emails[0]!.to, 'ada@example.com');
    assert.equal(emails[0]!.skipped, null);
    const { html } = (await new Outbox(dataDir).get(emails[0]!.id))!;
    assert.match(html, /You left something behind, Ada/);
    assert.match(html, /Linen Shirt/);
    assert.match(html, /M \/ Blue/);
    assert.match(html, /Tote &lt;Bag&gt; &amp; Co/, 'item titles are escaped');
    assert.match(html, /<img src="https:\/\/cdn\.example\.com\/shirt\.jpg"/);
    assert.match(html, /\$79\.00/);
    assert.match(html, /\$98\.99/);
    assert.match(html, /BACK10-ABCDEFGHJK/);
    assert.match(html, /10% off/);
    assert.match(
      html,
      /href="https:\/\/fake-shop\.myshopify\.com\/123\/checkouts\/tok-123\/recover\?key=abc"/,
    );
    assert.match(html, /Saved for you, with 10% off/, 'the preheader');
    assert.doesNotMatch(html, /\{\{|\{%/, 'no template syntax left over');
  });

  it('the same business key twice yields one email, also after a restart', async () => {
    await sandbox().klaviyo.sendRecoveryEmail(sampleEmail());
    await sandbox().klaviyo.sendRecoveryEmail(sampleEmail({ subject: 'a retry with other words' }));
    const { emails, total } = await new Outbox(dataDir).list();
    assert.equal(total, 1);
    assert.equal(emails[0]!.subject, 'Your cart misses you', 'the first event wins, as in Klaviyo');
    await sandbox().klaviyo.sendRecoveryEmail(sampleEmail({ key: `${SHOP}:tok-123:touch-3:send`, touch: 3 }));
    assert.equal((await new Outbox(dataDir).list()).total, 2);
  });

  it('refuses what Klaviyo refuses, with the same typed failure', async () => {
    const vendors = sandbox();
    await rejectsWithFailure(vendors.klaviyo.sendRecoveryEmail(sampleEmail({ email: 'someone@example.c' })), {
      type: FailureType.InvalidRecipient,
      nonRetryable: true,
    });
    assert.equal((await new Outbox(dataDir).list()).total, 0);
  });

  it('like Klaviyo, records the touch of a suppressed profile but does not send it', async () => {
    fs.mkdirSync(sandboxPaths(dataDir).root, { recursive: true });
    fs.writeFileSync(
      sandboxPaths(dataDir).klaviyoProfiles,
      JSON.stringify({ 'ada@example.com': { consent: 'SUBSCRIBED', suppressionReasons: ['HARD_BOUNCE'] } }),
    );
    await sandbox().klaviyo.sendRecoveryEmail(sampleEmail());
    const { emails } = await new Outbox(dataDir).list();
    assert.equal(emails[0]!.skipped, 'suppressed (HARD_BOUNCE)');
  });

  it('customers are new unless listed in klaviyo-profiles.json', async () => {
    const vendors = sandbox();
    assert.equal(
      (await vendors.klaviyo.enrichCustomer({ key: 'k', shop: SHOP, email: 'ada@example.com' })).known,
      false,
    );
    fs.mkdirSync(sandboxPaths(dataDir).root, { recursive: true });
    fs.writeFileSync(
      sandboxPaths(dataDir).klaviyoProfiles,
      JSON.stringify({
        'Ada@Example.com': { ordersCount: 3, historicClv: 420, consent: 'SUBSCRIBED', segments: ['VIP'] },
      }),
    );
    const facts = await buildVendorActivities(
      loadConfig({ DATA_DIR: dataDir, KLAVIYO_VIP_CLV_THRESHOLD: '400' }),
    ).klaviyo.enrichCustomer({ key: 'k', shop: SHOP, email: 'ada@example.com' });
    assert.equal(facts.known, true);
    assert.equal(facts.ordersCount, 3);
    assert.equal(facts.lifetimeValue, '420.00');
    assert.equal(facts.vip, true);
    assert.equal(facts.consent, 'SUBSCRIBED');
  });

  it('codes are unique per key, the same key finds the same code, and they can be revoked (state survives restarts)', async () => {
    const first = await sandbox().shopify.issueDiscountCode(sampleCodeInput());
    const again = await sandbox().shopify.issueDiscountCode(sampleCodeInput());
    assert.deepEqual(again, first);
    const other = await sandbox().shopify.issueDiscountCode(
      sampleCodeInput({ key: `${SHOP}:tok-123:touch-3:code` }),
    );
    assert.notEqual(other.code, first.code);
    assert.notEqual(other.id, first.id);
    await sandbox().shopify.revokeDiscountCode({ key: 'k', shop: SHOP, id: first.id, code: first.code });
    await sandbox().shopify.revokeDiscountCode({ key: 'k', shop: SHOP, id: first.id, code: first.code });
    const store = new SandboxShopify({ dataDir });
    assert.equal((await store.findDiscountCode(first.code))!.status, 'EXPIRED');
    assert.equal((await store.findDiscountCode(other.code))!.status, 'ACTIVE');
  });

  it('refuses a code Shopify would refuse, with the same typed failure', async () => {
    await rejectsWithFailure(
      sandbox().shopify.issueDiscountCode(sampleCodeInput({ customerId: 'not-an-id' })),
      {
        type: FailureType.VendorRefused,
        nonRetryable: true,
        message: /customerId/,
      },
    );
  });

  it('tickets get ids, one per business key', async () => {
    const first = await sandbox().gorgias.createSupportTicket(sampleTicket());
    const again = await sandbox().gorgias.createSupportTicket(sampleTicket());
    assert.match(first.ticketId, /^\d+$/);
    assert.deepEqual(again, first);
    const files = fs.readdirSync(sandboxPaths(dataDir).tickets).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1);
  });

  it('variants are available with a placeholder image, unless shopify-catalog.json says otherwise', async () => {
    fs.mkdirSync(sandboxPaths(dataDir).root, { recursive: true });
    fs.writeFileSync(sandboxPaths(dataDir).shopifyCatalog, JSON.stringify({ '12': { available: false } }));
    const facts = await sandbox().shopify.lookupVariants({
      key: 'k',
      shop: SHOP,
      items: [
        { key: 'a', variantId: '11', productId: '1', quantity: 1 },
        { key: 'b', variantId: '12', productId: '2', quantity: 1 },
      ],
    });
    assert.equal(facts[0]!.available, true);
    assert.match(facts[0]!.imageUrl ?? '', /^data:image\/svg\+xml;base64,/);
    assert.equal(facts[1]!.available, false);
  });

  it('serves the outbox: an index newest first, each email as HTML, 404 for unknown ids', async () => {
    const vendors = sandbox();
    await vendors.klaviyo.sendRecoveryEmail(sampleEmail({ subject: 'Older touch', key: 'k1', touch: 1 }));
    await new Promise((r) => setTimeout(r, 5)); // distinct creation times
    await vendors.klaviyo.sendRecoveryEmail(sampleEmail({ subject: 'Newer touch', key: 'k2', touch: 2 }));
    await vendors.shopify.issueDiscountCode(sampleCodeInput());
    await vendors.gorgias.createSupportTicket(sampleTicket());

    const app = express();
    app.use('/sandbox/outbox', sandboxOutboxRouter({ dataDir, modes: vendors.modes }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/outbox`;
    try {
      const index = await fetch(base);
      assert.equal(index.status, 200);
      const page = await index.text();
      assert.ok(page.indexOf('Newer touch') < page.indexOf('Older touch'), 'newest first');
      assert.match(page, /Abandoned cart worth \$450\.00/, 'the ticket is listed');
      assert.match(page, /BACK10-/, 'the code is listed');
      const link = /href="(\/sandbox\/outbox\/[a-f0-9]{24})"/.exec(page)![1]!;
      const email = await fetch(new URL(link, base));
      assert.equal(email.status, 200);
      assert.match(email.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.match(await email.text(), /Newer touch/);
      assert.equal((await fetch(`${base}/ffffffffffffffffffffffff`)).status, 404);
      assert.equal((await fetch(`${base}/..%2F..%2Fetc%2Fpasswd`)).status, 404);
      const json = (await (await fetch(`${base}/emails.json`)).json()) as { total: number };
      assert.equal(json.total, 2);
    } finally {
      server.close();
    }
  });
});

describe('Klaviyo templates (templates/klaviyo/)', function () {
  const variants: [string, RecoveryEmail][] = [
    ['with a code', sampleEmail()],
    [
      'without code, name or images',
      sampleEmail({ discount: null, firstName: null, items: [{ ...sampleEmail().items[1]! }] }),
    ],
    ['on the last touch', sampleEmail({ touch: 4, totalTouches: 4 })],
  ];
  for (const segment of SEGMENTS) {
    for (const [label, email] of variants) {
      it(`${segment} renders ${label} using only documented event properties`, () => {
        const template = compileTemplate(fs.readFileSync(klaviyoTemplatePath(segment), 'utf8'));
        // strict: a property the contract does not define is an error, not an empty string
        const html = template.render(
          { event: recoveryEmailProperties({ ...email, segment }, 'en-US') },
          { strict: true },
        );
        for (const item of email.items) assert.ok(html.includes(escapeHtml(item.title)), item.title);
        assert.match(html, /href="https:\/\/fake-shop\.myshopify\.com/);
        assert.equal(html.includes('BACK10-ABCDEFGHJK'), email.discount !== null);
        assert.doesNotMatch(html, /\{\{|\{%/);
      });
    }
  }

  it('the renderer refuses syntax the sandbox would not render like Klaviyo', () => {
    assert.throws(() => compileTemplate('{% cycle a b %}'), TemplateError);
    assert.throws(() => compileTemplate('{{ event.total|floatformat:2 }}'), TemplateError);
    assert.throws(() => compileTemplate('{% if event.x %}unclosed'), TemplateError);
    assert.throws(
      () => compileTemplate('{{ event.nope }}').render({ event: {} }, { strict: true }),
      TemplateError,
    );
    assert.equal(compileTemplate('{{ event.nope }}').render({ event: {} }), '');
  });

  it('every property documented in docs/klaviyo.md is one the activity sends, and vice versa', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'klaviyo.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([a-z_.]+)`/gm)].map((m) => m[1]!));
    const props = recoveryEmailProperties(sampleEmail(), 'en-US');
    const sent = new Set([...Object.keys(props), ...Object.keys(props.items[0]!).map((k) => `items.${k}`)]);
    assert.deepEqual([...documented].sort(), [...sent].sort());
  });
});

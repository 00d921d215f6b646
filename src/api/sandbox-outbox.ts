/**
 * GET /sandbox/outbox: what the sandbox "sent". An index of the emails (newest first) with the
 * discount codes and helpdesk tickets the sandbox created, and each email as the customer would
 * see it (rendered with templates/klaviyo/). Emails are also listed as JSON at
 * /sandbox/outbox/emails.json, for scripts.
 *
 * The outbox holds customers' email addresses: it exists for local runs, where the customers
 * are simulated. Klaviyo in live mode writes nothing here.
 */
import { Router, type Response } from 'express';
import { Outbox, OUTBOX_ID } from '../vendors/sandbox/outbox';
import { JsonDirectory } from '../vendors/sandbox/store';
import { sandboxPaths } from '../vendors/sandbox/paths';
import type { SandboxDiscount } from '../vendors/sandbox/shopify';
import type { SandboxTicket } from '../vendors/sandbox/gorgias';
import { escapeHtml } from '../vendors/html';

export interface SandboxOutboxDeps {
  dataDir: string;
  /** Vendor modes (`sandbox` or `live (...)`), shown on the page. */
  modes: Record<'klaviyo' | 'shopify' | 'gorgias', string>;
}

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:";
// An email is third-party-looking HTML: no scripts, no forms, nothing but styles and images.
const EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; form-action 'none'";
const LIMIT = 200;

function page(res: Response, status: number, title: string, body: string) {
  res
    .status(status)
    .set('Content-Security-Policy', PAGE_CSP)
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#18181b}table{border-collapse:collapse;width:100%;margin-bottom:2rem}` +
        `th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e4e4e7;font-size:.9rem}th{background:#f4f4f5}` +
        `.muted{color:#71717a}code{font-size:.85rem;white-space:nowrap}</style></head><body>${body}</body></html>`,
    );
}

const newestFirst = <T extends { createdAt: string }>(items: T[]) =>
  items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)).slice(0, LIMIT);

export function sandboxOutboxRouter(deps: SandboxOutboxDeps): Router {
  const router = Router();
  const outbox = new Outbox(deps.dataDir);
  const paths = sandboxPaths(deps.dataDir);
  const discounts = new JsonDirectory<SandboxDiscount>(paths.discounts);
  const tickets = new JsonDirectory<SandboxTicket>(paths.tickets);

  router.get('/', async (req, res) => {
    const { emails, total } = await outbox.list(LIMIT);
    const base = req.baseUrl;
    const mode = (vendor: 'klaviyo' | 'shopify' | 'gorgias') => escapeHtml(deps.modes[vendor]);
    const emailRows = emails
      .map(
        (e) =>
          `<tr><td class="muted">${escapeHtml(e.createdAt.replace('T', ' ').slice(0, 19))}</td>` +
          `<td>${escapeHtml(e.to)}</td><td><a href="${escapeHtml(`${base}/${e.id}`)}">${escapeHtml(e.subject)}</a>` +
          `<br><span class="muted">${escapeHtml(e.preheader)}</span></td><td>${escapeHtml(e.segment ?? '')}</td>` +
          `<td>${e.touch ?? ''}${e.totalTouches ? ` of ${e.totalTouches}` : ''}</td><td><code>${escapeHtml(e.discountCode ?? '')}</code></td>` +
          `<td>${e.skipped ? `not sent: ${escapeHtml(e.skipped)}` : 'sent'}</td></tr>`,
      )
      .join('');
    const codeRows = newestFirst(await discounts.all())
      .map(
        (d) =>
          `<tr><td class="muted">${escapeHtml(d.createdAt.replace('T', ' ').slice(0, 19))}</td><td><code>${escapeHtml(d.code)}</code></td>` +
          `<td>${d.percent}%</td><td>${escapeHtml(d.endsAt)}</td><td>${d.deactivatedAt ? `revoked ${escapeHtml(d.deactivatedAt)}` : 'active until expiry'}</td></tr>`,
      )
      .join('');
    const ticketRows = newestFirst(await tickets.all())
      .map(
        (t) =>
          `<tr><td class="muted">${escapeHtml(t.createdAt.replace('T', ' ').slice(0, 19))}</td><td>#${escapeHtml(t.id)}</td>` +
          `<td>${escapeHtml(t.subject)}</td><td>${escapeHtml(t.customerEmail)}</td><td>${escapeHtml(t.tags.join(', '))}</td></tr>`,
      )
      .join('');
    page(
      res,
      200,
      'Sandbox outbox',
      `<h1>Sandbox outbox</h1>` +
        `<p class="muted">Klaviyo: ${mode('klaviyo')} &middot; Shopify: ${mode('shopify')} &middot; Gorgias: ${mode('gorgias')}. ` +
        `Vendors in sandbox mode write here instead of calling the real service (state in ${escapeHtml(paths.root)}).</p>` +
        `<h2>Emails (${total}${total > LIMIT ? `, newest ${LIMIT} shown` : ''})</h2>` +
        (emailRows
          ? `<table><tr><th>Sent</th><th>To</th><th>Subject</th><th>Segment</th><th>Touch</th><th>Code</th><th>Klaviyo</th></tr>${emailRows}</table>`
          : '<p>No email yet: abandon a checkout and wait for the first touch.</p>') +
        `<h2>Discount codes</h2>` +
        (codeRows
          ? `<table><tr><th>Created</th><th>Code</th><th>Off</th><th>Ends</th><th>State</th></tr>${codeRows}</table>`
          : '<p>No code yet.</p>') +
        `<h2>Helpdesk tickets</h2>` +
        (ticketRows
          ? `<table><tr><th>Created</th><th>Id</th><th>Subject</th><th>Customer</th><th>Tags</th></tr>${ticketRows}</table>`
          : '<p>No ticket yet.</p>'),
    );
  });

  router.get('/emails.json', async (_req, res) => {
    const { emails, total } = await outbox.list(LIMIT);
    res.set('Cache-Control', 'no-store').json({ total, emails });
  });

  router.get('/:id', async (req, res) => {
    const id = req.params.id;
    const found = OUTBOX_ID.test(id) ? await outbox.get(id) : undefined;
    if (!found) {
      page(
        res,
        404,
        'Not found',
        `<h1>No such email</h1><p><a href="${escapeHtml(req.baseUrl || '/')}">Back to the outbox</a></p>`,
      );
      return;
    }
    res
      .set('Content-Security-Policy', EMAIL_CSP)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(found.html);
  });

  return router;
}

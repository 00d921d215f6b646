/**
 * GET /r/:token — the tracked link in recovery emails. Verifies the signature, records the
 * click (first click per touch counts) and redirects to the checkout's restore link. A tampered
 * token gets 400; an expired one a friendly page that names only the shop. The customer is
 * redirected even when recording the click fails: losing a click beats losing a sale.
 */
import { Router, type Request, type Response } from 'express';
import { logger } from '../../logger';
import { TamperedLinkError, type LinkSigner } from '../../metrics/links';
import type { MetricsStore } from '../../metrics/store';
import { escapeHtml } from './html';

export const LINK_CLICK_SOURCE = 'link';

function page(res: Response, status: number, title: string, body: string) {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .set('Referrer-Policy', 'no-referrer')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>` +
        `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

function safeRedirectTarget(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

export function redirectRouter(deps: { store: MetricsStore; signer: LinkSigner; now?: () => Date }): Router {
  const router = Router();
  router.get('/r/:token', async (req: Request<{ token: string }>, res) => {
    let link;
    try {
      link = deps.signer.verify(req.params.token, deps.now?.());
    } catch (err) {
      if (!(err instanceof TamperedLinkError)) throw err;
      logger.warn('tracked link rejected', { reason: err.message });
      page(
        res,
        400,
        'This link is not valid',
        '<p>The link may have been changed or cut short. Please open it again from the email.</p>',
      );
      return;
    }
    const shopHome = `https://${link.shop}/`;
    if (link.expired) {
      page(
        res,
        410,
        'This link has expired',
        `<p>The offer in this email is no longer available, but the shop is still open.</p><p><a href="${escapeHtml(shopHome)}">Visit ${escapeHtml(link.shop)}</a></p>`,
      );
      return;
    }
    const ref = { shop: link.shop, checkoutToken: link.checkoutToken, touch: link.touch };
    let target: string | undefined;
    try {
      const stored = await deps.store.findLink(ref);
      target = stored ? safeRedirectTarget(stored.restoreUrl) : undefined;
      // HEAD requests come from link checkers, not people.
      if (req.method === 'GET') {
        await deps.store.recordEngagement({
          source: LINK_CLICK_SOURCE,
          sourceId: `${ref.shop}:${ref.checkoutToken}:touch-${ref.touch}`,
          kind: 'click',
          ...ref,
          at: (deps.now?.() ?? new Date()).toISOString(),
        });
      }
    } catch (err) {
      logger.error('tracked link: could not record the click', {
        err,
        shop: ref.shop,
        checkoutToken: ref.checkoutToken,
      });
    }
    res
      .set('Cache-Control', 'no-store')
      .set('Referrer-Policy', 'no-referrer')
      .redirect(302, target ?? shopHome);
  });
  return router;
}

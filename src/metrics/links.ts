/**
 * Tracked links: the restore link in each email goes through `/r/<token>` on our API, which
 * records the click and redirects to the checkout.
 *
 * The token is signed (HMAC-SHA256) and carries no personal data: shop domain, checkout token,
 * touch number and expiry. The restore link itself stays in our database (`metric_touch_links`):
 * Shopify's abandoned-checkout URL opens a checkout holding the customer's address and email, so
 * it should not travel in yet another URL that proxies and logs keep.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { RecoveryEmail } from '../workflows/contracts';
import type { MetricsStore, TouchRef } from './store';

export class TamperedLinkError extends Error {
  constructor(reason: string) {
    super(`tracked link rejected: ${reason}`);
    this.name = 'TamperedLinkError';
  }
}

export interface LinkClaims extends TouchRef {
  /** Expiry, epoch seconds. */
  expiresAt: number;
}

export type VerifiedLink = LinkClaims & { expired: boolean };

const VERSION = 'v1';
const b64 = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

export interface LinkSigner {
  sign(claims: LinkClaims): string;
  /** Throws TamperedLinkError for anything not signed by us; reports expiry without throwing. */
  verify(token: string, now?: Date): VerifiedLink;
  /** Keyed hash of an email address: joins Klaviyo opens to touches without storing the email. */
  recipientHash(email: string): string;
}

export function createLinkSigner(secret: string): LinkSigner {
  if (secret.length < 32) throw new Error('link signing secret: expected at least 32 characters');
  // Separate keys per purpose, so a token signature can never double as a recipient hash.
  const signingKey = createHmac('sha256', secret).update('cart-recovery link signing').digest();
  const recipientKey = createHmac('sha256', secret).update('cart-recovery recipient hash').digest();
  const mac = (payload: string) => createHmac('sha256', signingKey).update(payload).digest();
  return {
    sign(claims) {
      const payload = b64(
        JSON.stringify([claims.shop, claims.checkoutToken, claims.touch, claims.expiresAt]),
      );
      return `${VERSION}.${payload}.${b64(mac(`${VERSION}.${payload}`))}`;
    },
    verify(token, now = new Date()) {
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== VERSION) throw new TamperedLinkError('unknown token format');
      const [, payload, signature] = parts as [string, string, string];
      const expected = mac(`${VERSION}.${payload}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new TamperedLinkError('bad signature');
      }
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw new TamperedLinkError('unreadable payload');
      }
      if (
        !Array.isArray(claims) ||
        claims.length !== 4 ||
        typeof claims[0] !== 'string' ||
        typeof claims[1] !== 'string' ||
        !Number.isInteger(claims[2]) ||
        !Number.isInteger(claims[3])
      ) {
        throw new TamperedLinkError('unexpected claims');
      }
      const [shop, checkoutToken, touch, expiresAt] = claims as [string, string, number, number];
      return { shop, checkoutToken, touch, expiresAt, expired: now.getTime() / 1000 > expiresAt };
    },
    recipientHash(email) {
      return createHmac('sha256', recipientKey).update(email.trim().toLowerCase()).digest('hex');
    },
  };
}

/**
 * The link signing secret: LINK_SIGNING_SECRET, or outside production a secret generated once
 * into the data folder, so that links in emails sent during development survive restarts.
 */
export function resolveLinkSecret(config: Config): string {
  if (config.metrics.linkSigningSecret) return config.metrics.linkSigningSecret;
  if (config.env === 'production') {
    throw new Error('LINK_SIGNING_SECRET: expected a secret of at least 32 characters in production');
  }
  const file = config.metrics.linkSecretFile;
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export interface TrackedLinks {
  /**
   * Registers the touch's restore link (and the recipient's keyed hash) and returns the tracked
   * URL to put in the email instead. Idempotent per touch: a retried send registers the same row.
   */
  trackedLink(
    email: Pick<RecoveryEmail, 'shop' | 'checkoutToken' | 'touch' | 'restoreUrl' | 'email'>,
  ): Promise<string>;
}

export function createTrackedLinks(deps: {
  store: MetricsStore;
  signer: LinkSigner;
  publicUrl: string;
  ttlMs: number;
  now?: () => Date;
}): TrackedLinks {
  const now = deps.now ?? (() => new Date());
  return {
    async trackedLink(email) {
      const at = now();
      const shop = email.shop.trim().toLowerCase();
      const checkoutToken = email.checkoutToken.trim();
      await deps.store.registerLink({
        shop,
        checkoutToken,
        touch: email.touch,
        restoreUrl: email.restoreUrl,
        recipientHash: email.email ? deps.signer.recipientHash(email.email) : null,
        at: at.toISOString(),
      });
      const token = deps.signer.sign({
        shop,
        checkoutToken,
        touch: email.touch,
        expiresAt: Math.floor((at.getTime() + deps.ttlMs) / 1000),
      });
      return `${deps.publicUrl.replace(/\/$/, '')}/r/${token}`;
    },
  };
}

/** The token of a tracked URL of ours found in a clicked link (Klaviyo wraps and reports them). */
export function tokenInUrl(url: string): string | undefined {
  const m = /\/r\/(v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(url);
  return m?.[1];
}

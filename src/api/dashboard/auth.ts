/**
 * Access to the dashboard and its JSON API: a bearer token (DASHBOARD_TOKEN) or basic auth
 * (DASHBOARD_USER / DASHBOARD_PASSWORD). Without credentials the dashboard runs only in local
 * mode (DASHBOARD_AUTH=local, the default of NODE_ENV=development; src/config/load.ts refuses it
 * elsewhere), which answers clients on this machine only, so a laptop running `npm start` on a
 * café network does not publish its shop's figures.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../../config';

export class DashboardAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardAuthError';
  }
}

const COOKIE = 'cart_recovery_dashboard';

/** Throws when the dashboard would be exposed without credentials: the API must not start. */
export function assertDashboardAuth(config: Config): void {
  const d = config.dashboard;
  if (d.auth !== 'required') return;
  if (d.token || (d.user && d.password)) return;
  throw new DashboardAuthError(
    'the dashboard needs credentials: set DASHBOARD_TOKEN (at least 16 characters) or DASHBOARD_USER and DASHBOARD_PASSWORD; ' +
      'or, for local development, DASHBOARD_AUTH=local (NODE_ENV=development; answers this machine only), or DASHBOARD_AUTH=disabled',
  );
}

const digest = (v: string) => createHash('sha256').update(v).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export function dashboardAuth(config: Config) {
  const d = config.dashboard;
  return (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    if (d.auth === 'local') {
      if (isLoopback(req.socket.remoteAddress)) return next();
      res
        .status(403)
        .type('text')
        .send(
          'The dashboard runs without credentials (DASHBOARD_AUTH=local) and answers this machine only; set DASHBOARD_TOKEN to open it to others.',
        );
      return;
    }
    const header = req.headers.authorization ?? '';
    if (d.token) {
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      const fromQuery = typeof req.query.token === 'string' ? req.query.token : undefined;
      const candidate = bearer ?? fromQuery ?? cookieValue(req, COOKIE);
      if (candidate && same(candidate, d.token)) {
        if (fromQuery) {
          // Keep the token in an HttpOnly cookie so it does not stay in the address bar and history.
          res.cookie(COOKIE, fromQuery, {
            httpOnly: true,
            sameSite: 'strict',
            secure: req.secure,
            path: '/',
            maxAge: 12 * 3_600_000,
          });
        }
        return next();
      }
    }
    if (d.user && d.password) {
      const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
      if (basic) {
        const decoded = Buffer.from(basic, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (
          colon > 0 &&
          same(decoded.slice(0, colon), d.user) &&
          same(decoded.slice(colon + 1), d.password)
        ) {
          return next();
        }
      }
      res.set('WWW-Authenticate', 'Basic realm="cart-recovery dashboard", charset="UTF-8"');
    }
    res
      .status(401)
      .type('text')
      .send(
        d.token
          ? 'Authentication required: send Authorization: Bearer <DASHBOARD_TOKEN>, or open /dashboard?token=<DASHBOARD_TOKEN> once.'
          : 'Authentication required.',
      );
  };
}

/**
 * Secret-strength rules: the least a secret setting must be to be accepted. The messages say
 * what is expected and never repeat the value (./load.ts shows values only for non-secrets).
 */
import { z } from 'zod';

/** `id:base64key,...`: the first key seals, all of them open (see payload-encryption.ts). */
export const payloadKeys = z.string().transform((v, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const entry of v.split(',').map((e) => e.trim())) {
    const match = /^([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9+/=]+)$/.exec(entry);
    const key = match ? Buffer.from(match[2]!, 'base64') : undefined;
    if (!match || key?.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message:
          'expected a comma-separated list of <key id>:<32 bytes in base64>, the active key first (e.g. `2026-11:$(openssl rand -base64 32)`)',
      });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === match[1])) {
      ctx.addIssue({ code: 'custom', message: `expected each key id once (${match[1]} repeats)` });
      return z.NEVER;
    }
    keys.push({ id: match[1]!, key: key });
  }
  return keys;
});
/** `a.myshopify.com=s1,a.myshopify.com=s2,b.myshopify.com=s3` -> { shop: [secrets] } (a shop repeats during a rotation). */
export const shopSecrets = z.string().transform((v, ctx) => {
  const out: Record<string, string[]> = {};
  for (const entry of v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.indexOf('=');
    const shop = entry.slice(0, at).trim().toLowerCase();
    const secret = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[a-z0-9][a-z0-9.-]*$/.test(shop) || !secret) {
      // The entry itself is not shown: it holds a secret.
      ctx.addIssue({ code: 'custom', message: 'expected shop-domain=secret pairs, comma-separated' });
      return z.NEVER;
    }
    (out[shop] ??= []).push(secret);
  }
  return out;
});
export const klaviyoPrivateApiKey = z
  .string()
  .trim()
  .regex(/^pk_[A-Za-z0-9]{10,}$/, 'expected a Klaviyo private API key (pk_...)');
export const discountCodeSecret = z
  .string()
  .min(16, 'expected at least 16 characters (e.g. `openssl rand -hex 32`)');
export const linkSigningSecret = z
  .string()
  .min(32, 'expected a random secret of at least 32 characters (e.g. `openssl rand -hex 32`)');
export const dashboardToken = z.string().min(16, 'expected a token of at least 16 characters');
export const dashboardPassword = z.string().min(12, 'expected a password of at least 12 characters');

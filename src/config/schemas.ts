/**
 * The value formats of the settings: each turns one environment variable's text into a typed
 * value or a message saying what is expected. Secrets have their own rules (./secrets.ts).
 */
import { z } from 'zod';
import { parseDuration } from '../duration';
import { isCurrency, isDecimal } from '../workflows/money';

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const port = z.coerce
  .number({ message: 'expected a TCP port number' })
  .int('expected a whole number')
  .min(1, 'expected a port between 1 and 65535')
  .max(65535, 'expected a port between 1 and 65535');
export const positiveInt = z.coerce
  .number({ message: 'expected a number' })
  .int('expected a whole number')
  .positive('expected a number above 0');
export const positiveNumber = z.coerce
  .number({ message: 'expected a number' })
  .positive('expected a number above 0');
export const nonEmpty = z.string().trim().min(1, 'expected a non-empty value');
export const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 15m, 1h, 7d or 1h30m' });
    return z.NEVER;
  }
  return ms;
});
export const durationList = z.string().transform((v, ctx) => {
  const parts = v.split(',').map((p) => parseDuration(p.trim()));
  if (parts.length === 0 || parts.some((p) => p === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a comma-separated list of durations, e.g. 1h,6h,24h,72h',
    });
    return z.NEVER;
  }
  return parts as number[];
});
export const percentList = z.string().transform((v, ctx) => {
  const parts = v.split(',').map((p) => Number(p.trim()));
  if (parts.some((p) => !Number.isInteger(p) || p < 0 || p > 100)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a comma-separated list of whole percentages 0..100, e.g. 10,10,15,20',
    });
    return z.NEVER;
  }
  return parts;
});
/** `USD:200,EUR:180` -> { USD: '200', EUR: '180' }; amounts stay decimal strings (money is never a float). */
export const moneyByCurrency = z.string().transform((v, ctx) => {
  const out: Record<string, string> = {};
  for (const entry of v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [currency = '', amount = '', ...rest] = entry.split(':').map((part) => part.trim());
    if (rest.length > 0 || !isCurrency(currency) || !isDecimal(amount)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected CUR:amount pairs such as USD:200,EUR:180 (got "${entry}")`,
      });
      return z.NEVER;
    }
    out[currency] = amount;
  }
  return out;
});
export const url = z.url({ message: 'expected an absolute URL such as https://example.com' });
export const hostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. temporal.example.com:7233');
export const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as America/New_York' },
);
export const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
/** `1mb`, `512kb`, `2048` (bytes) -> a byte count. */
export const byteSize = z.string().transform((v, ctx) => {
  const m = /^\s*(\d+)\s*(b|kb|mb)?\s*$/i.exec(v);
  const bytes = m
    ? Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase()] ?? 1)
    : 0;
  if (!m || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a size above 0 such as 512kb, 1mb or 65536 (bytes)' });
    return z.NEVER;
  }
  return bytes;
});
export const locale = z.string().refine(
  (tag) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf([tag]).length > 0;
    } catch {
      return false;
    }
  },
  { message: 'expected a BCP 47 locale such as en-US or de-DE' },
);
export const myshopifyDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/,
    "expected the shop's myshopify.com domain, e.g. mystore.myshopify.com",
  );
export const shopifyApiVersion = z
  .string()
  .trim()
  .regex(/^\d{4}-(01|04|07|10)$/, 'expected a Shopify API version such as 2025-10')
  .refine((v) => v >= '2025-10', {
    message: 'expected 2025-10 or later (discount codes are targeted with `context`, added in 2025-10)',
  });
/** `mystore` or `mystore.gorgias.com` -> `mystore`. */
export const gorgiasSubdomain = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => v.replace(/\.gorgias\.com$/, ''))
  .pipe(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]*$/,
        'expected your Gorgias subdomain, e.g. mystore (for mystore.gorgias.com)',
      ),
  );
/** `21-8` -> { startHour: 21, endHour: 8 }; `off` -> no quiet hours (start = end = 0). */
export const quietHours = z.string().transform((v, ctx) => {
  if (v.trim() === 'off') return { startHour: 0, endHour: 0 };
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(v.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!(start >= 0 && start <= 23 && end >= 0 && end <= 23) || start === end) {
    ctx.addIssue({ code: 'custom', message: 'expected local hours start-end such as 21-8, or off' });
    return z.NEVER;
  }
  return { startHour: start, endHour: end };
});
export const wholePercent = z.coerce
  .number({ message: 'expected a whole percentage 0..100' })
  .int('expected a whole percentage 0..100')
  .min(0, 'expected a whole percentage 0..100')
  .max(100, 'expected a whole percentage 0..100');

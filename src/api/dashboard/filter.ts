/**
 * The dashboard's filter (shop, from, to), from the query string of /dashboard and
 * /api/metrics/*. Dates are calendar days in the metrics time zone (METRICS_TIMEZONE), both ends
 * included; the default is the last 30 days of that zone, today included.
 */
import { z } from 'zod';
import { addDays, dayInZone } from '../../metrics/days';
import type { MetricsFilter } from '../../metrics/store';

const DAY = 86_400_000;
const MAX_DAYS = 3 * 366;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine(
    (v) =>
      !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    'expected a real calendar date',
  );

const filterQuery = (timeZone: string, now: number) =>
  z
    .object({
      shop: z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a shop domain such as example.myshopify.com')
        .max(255)
        .optional()
        .or(z.literal('').transform(() => undefined)),
      from: day.optional().or(z.literal('').transform(() => undefined)),
      to: day.optional().or(z.literal('').transform(() => undefined)),
    })
    .transform((q, ctx) => {
      const to = q.to ?? dayInZone(now, timeZone);
      const from = q.from ?? addDays(to, -29);
      if (from > to) {
        ctx.addIssue({ code: 'custom', path: ['from'], message: 'expected from on or before to' });
        return z.NEVER;
      }
      if ((Date.parse(to) - Date.parse(from)) / DAY + 1 > MAX_DAYS) {
        ctx.addIssue({
          code: 'custom',
          path: ['from'],
          message: `expected a range of at most ${MAX_DAYS} days`,
        });
        return z.NEVER;
      }
      return { shop: q.shop, from, to } satisfies MetricsFilter;
    });
export type FilterQuery = z.infer<ReturnType<typeof filterQuery>>;

/** `timeZone`: the metrics store's zone, in which the default range's "today" is taken. */
export function parseFilter(
  query: unknown,
  timeZone: string,
  now: number = Date.now(),
): { ok: true; filter: FilterQuery } | { ok: false; problems: string[] } {
  const flat: Record<string, unknown> = {};
  for (const key of ['shop', 'from', 'to']) {
    const v = (query as Record<string, unknown>)[key];
    flat[key] = Array.isArray(v) ? v[0] : v;
  }
  const parsed = filterQuery(timeZone, now).safeParse(flat);
  if (parsed.success) return { ok: true, filter: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`),
  };
}

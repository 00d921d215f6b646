/**
 * Calendar days in the metrics time zone (METRICS_TIMEZONE): the cohort day of a cart, the order
 * day of its revenue, and the bounds of the dashboard's date range. Days are `YYYY-MM-DD` strings
 * so that they sort and compare as text in SQL. Built on the workflow's zone helpers, so quiet
 * hours and metrics agree on what a local day is, DST included.
 */
import { instantOfLocal, localTime } from '../workflows/schedule';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The calendar day, in `timeZone`, of an ISO time or epoch ms. */
export function dayInZone(instant: string | number, timeZone: string): string {
  const t = localTime(typeof instant === 'number' ? instant : Date.parse(instant), timeZone);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
}

/** `YYYY-MM-DD` plus `days` calendar days (zone-free arithmetic on the date itself). */
export function addDays(day: string, days: number): string {
  const d = new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

const MINUTE = 60_000;
const SEARCH_WINDOW = 3 * 60 * MINUTE;

/**
 * The first instant of a calendar day in `timeZone`, as epoch ms: local midnight, or where a DST
 * change skips midnight (America/Santiago in September: 23:59 -> 01:00) the first minute that
 * exists. The search around the wall-clock guess relies on offsets changing by at most 3 h.
 */
export function startOfDayInZone(day: string, timeZone: string): number {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const guess = instantOfLocal(year, month, date, 0, timeZone);
  let before = guess - SEARCH_WINDOW; // still the previous day
  let onOrAfter = guess + SEARCH_WINDOW;
  while (onOrAfter - before > MINUTE) {
    const middle = before + Math.floor((onOrAfter - before) / MINUTE / 2) * MINUTE;
    if (dayInZone(middle, timeZone) >= day) onOrAfter = middle;
    else before = middle;
  }
  return onOrAfter;
}

/** Local wall-clock time `YYYY-MM-DD HH:MM` in `timeZone`, for display. */
export function localMinuteInZone(instant: string | number, timeZone: string): string {
  const t = localTime(typeof instant === 'number' ? instant : Date.parse(instant), timeZone);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`;
}

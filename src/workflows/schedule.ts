/**
 * When a touch may go out: quiet hours in the customer's time zone. Pure functions of an
 * instant (epoch ms) and a zone; workflow-safe (Intl is deterministic for a given runtime).
 */
const HOUR = 3_600_000;

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters: Record<string, Intl.DateTimeFormat> = {};
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters[timeZone];
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters[timeZone] = f;
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string | null | undefined): timeZone is string {
  if (!timeZone) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function localTime(epochMs: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(epochMs: number, timeZone: string): number {
  const t = localTime(epochMs, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** The instant of a local wall-clock time (DST-aware: re-checks the offset at the result). */
export function instantOfLocal(
  year: number,
  month: number,
  day: number,
  hour: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour);
  const guess = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(guess, timeZone);
}

export function inQuietHours(hour: number, quiet: { startHour: number; endHour: number }): boolean {
  const { startHour, endHour } = quiet;
  if (startHour === endHour) return false; // no quiet hours
  return startHour < endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour;
}

/**
 * The first instant at or after `epochMs` outside quiet hours in `timeZone`: unchanged when the
 * local time is allowed, otherwise the next local `endHour`:00 (e.g. 23:10 -> 08:00 next day).
 */
export function nextSendableTime(
  epochMs: number,
  timeZone: string,
  quiet: { startHour: number; endHour: number },
): number {
  const t = localTime(epochMs, timeZone);
  if (!inQuietHours(t.hour, quiet)) return epochMs;
  // Quiet hours spanning midnight: before midnight the end is tomorrow, after it today.
  const endIsTomorrow = quiet.startHour > quiet.endHour && t.hour >= quiet.startHour;
  const base = Date.UTC(t.year, t.month - 1, t.day) + (endIsTomorrow ? 24 * HOUR : 0);
  const d = new Date(base);
  return instantOfLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), quiet.endHour, timeZone);
}

/**
 * The first instant at or after `epochMs` that is in quiet hours in `timeZone` (`epochMs` itself
 * when it already is); Infinity without quiet hours. A send is not handed over after it.
 */
export function quietStartAfter(
  epochMs: number,
  timeZone: string,
  quiet: { startHour: number; endHour: number },
): number {
  if (quiet.startHour === quiet.endHour) return Infinity;
  const t = localTime(epochMs, timeZone);
  if (inQuietHours(t.hour, quiet)) return epochMs;
  for (let day = 0; day < 3; day += 1) {
    const d = new Date(Date.UTC(t.year, t.month - 1, t.day + day));
    const at = instantOfLocal(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      quiet.startHour,
      timeZone,
    );
    if (at > epochMs) return at;
  }
  return Infinity;
}

// Local dates and Monday-start weeks in an IANA time zone, with Intl only (no tz
// library). Civil dates ("YYYY-MM-DD") are computed with UTC arithmetic, which has
// no DST; they become instants only through startOfLocalDay, which asks Intl for
// the offset in force, so a week that contains a DST change is 167 or 169 hours.

const DAY_MS = 86_400_000;

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock reading in `zone` at the instant `ms`. */
export function localDateTime(ms: number, zone: string): LocalDateTime {
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(zone).formatToParts(ms)) {
    if (part.type in out) out[part.type as keyof LocalDateTime] = Number(part.value);
  }
  // Some engines print midnight as 24 even with h23.
  if (out.hour === 24) out.hour = 0;
  return out;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function civil(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** The local date ("YYYY-MM-DD") in `zone` at the instant `ms`. */
export function localDate(ms: number, zone: string): string {
  const t = localDateTime(ms, zone);
  return civil(t.year, t.month, t.day);
}

function civilToUtcMs(date: string): number {
  const [y, m, d] = date.split("-").map(Number);
  return Date.UTC(y!, m! - 1, d!);
}

/** A civil date `days` later (or earlier, when negative). */
export function addDays(date: string, days: number): string {
  return new Date(civilToUtcMs(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The Monday on or before a civil date. */
export function mondayOf(date: string): string {
  const sundayZero = new Date(civilToUtcMs(date)).getUTCDay();
  return addDays(date, -((sundayZero + 6) % 7));
}

/** Offset of `zone` from UTC at `ms`, in ms (east positive), to the second. */
function utcOffset(ms: number, zone: string): number {
  const t = localDateTime(ms, zone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The first instant whose local date in `zone` is `date`: local midnight, or the
 * end of the gap where a zone skips midnight on a DST change.
 */
export function startOfLocalDay(date: string, zone: string): number {
  const wall = civilToUtcMs(date);
  // Midnight is at wall - offset, with the offset in force at midnight: two steps settle it.
  let guess = wall - utcOffset(wall, zone);
  guess = wall - utcOffset(guess, zone);
  if (localDate(guess, zone) === date && localDate(guess - 1, zone) < date) return guess;
  // Midnight does not exist that day: search for the first instant of the date.
  let lo = wall - 16 * 3_600_000; // surely the day before (offsets are within ±14 h)
  let hi = wall + 16 * 3_600_000; // surely that date or later
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, zone) < date) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface LocalWeek {
  /** The Monday, "YYYY-MM-DD". */
  weekStart: string;
  /** Instants [from, to): local Monday 00:00 to the next local Monday 00:00. */
  from: number;
  to: number;
}

/** The `count` Monday-start weeks in `zone` ending with the week that contains `now`, oldest first. */
export function mondayWeeks(now: number, zone: string, count: number): LocalWeek[] {
  const current = mondayOf(localDate(now, zone));
  const mondays = Array.from({ length: count + 1 }, (_, i) => addDays(current, 7 * (i - count + 1)));
  const bounds = mondays.map((d) => startOfLocalDay(d, zone));
  return mondays.slice(0, count).map((weekStart, i) => ({ weekStart, from: bounds[i]!, to: bounds[i + 1]! }));
}

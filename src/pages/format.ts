// Numbers and times written for people (SPEC §13): thousands separators, units, the user's zone.
// Display only: the services' numbers are never recomputed here, just printed.
import type { PrKind } from "../services/metrics/prs";

const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
// Plates come in 1.25 kg steps: a weight keeps its second decimal.
const kgFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** 12345.67 → "12,345.7". */
export const formatNumber = (n: number): string => numberFormat.format(n);

/** 12345 → "12,345 kg"; 117.25 → "117.25 kg". */
export const formatKg = (n: number): string => `${kgFormat.format(n)} kg`;

/** 5400 → "1 h 30 min"; 2700 → "45 min"; 40 → "40 s". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${formatNumber(h)} h ${m} min` : `${formatNumber(h)} h`;
  if (m > 0) return s > 0 && m < 10 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

/** 1250 → "1.3 km"; 400 → "400 m". */
export const formatDistance = (meters: number): string => (meters >= 1000 ? `${formatNumber(meters / 1000)} km` : `${formatNumber(meters)} m`);

/** An ISO instant as the wall clock in `zone`: "Fri, Nov 20, 2026, 6:02 PM GMT+1". */
export function formatDateTime(iso: string, zone: string): string {
  let f = dateTimeFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    });
    dateTimeFormats.set(zone, f);
  }
  // ICU puts a narrow no-break space before AM/PM; a plain one reads the same and copies cleanly.
  return f.format(Date.parse(iso)).replace(/\u202f/g, " ");
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** An ISO instant as the local date in `zone`: "Nov 20, 2026". */
export function formatDate(iso: string, zone: string): string {
  let f = dateFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "short", day: "numeric" });
    dateFormats.set(zone, f);
  }
  return f.format(Date.parse(iso));
}

/**
 * A PR's value: weights and set volumes with their plate decimals (117.25 kg, as the workout page
 * shows the set), the estimated 1RM — an estimate — to one decimal, reps as a count.
 */
export function formatRecord(kind: "heaviest_weight" | "best_e1rm" | "most_reps" | "best_set_volume", value: number): string {
  if (kind === "most_reps") return `${formatNumber(value)} reps`;
  return kind === "best_e1rm" ? `${formatNumber(value)} kg` : formatKg(value);
}

/** A calendar day ("2026-11-27", already the user's local day) as "Nov 27, 2026". */
export const formatDay = (date: string): string => formatDate(`${date}T12:00:00Z`, "UTC");

/** How long ago `iso` was, for people: "just now", "5 min ago", "3 h ago", "2 days ago". */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  return days === 1 ? "1 day ago" : `${formatNumber(days)} days ago`;
}

const SOURCE_NAMES: Record<string, string> = { hevy: "Hevy", apple_health: "Apple Health", whoop: "WHOOP", oura: "Oura", strava: "Strava" };

/** "apple_health" → "Apple Health". */
export const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;

/** "traditional_strength_training" → "Traditional strength training". */
export function activityName(type: string): string {
  const words = type.replace(/_/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : "Workout";
}

const PR_KIND_NAMES: Record<PrKind, string> = { heaviest_weight: "Heaviest", best_e1rm: "Best e1RM", most_reps: "Most reps", best_set_volume: "Best set volume" };

/** "best_e1rm" → "Best e1RM". */
export const prKindName = (kind: PrKind): string => PR_KIND_NAMES[kind];

/** The page of one Hevy workout. */
export const workoutHref = (id: string) => `/workouts/hevy/${encodeURIComponent(id)}`;
/** The progress page of one exercise template. */
export const exerciseHref = (templateId: string) => `/hevy/exercises/${encodeURIComponent(templateId)}`;

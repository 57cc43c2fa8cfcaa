/**
 * ISO 8601 UTC for a stored epoch-ms instant: "2026-11-20T17:02:00Z", with
 * milliseconds only when the instant has them (as Hevy's updated_at does).
 */
export function isoUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoUtc(ms);
}

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses a query-string instant: an ISO 8601 date-time with a zone
 * ("2026-11-20T17:02:00Z", "…+01:00") or a bare date, read as UTC midnight.
 * Returns null for anything else, including impossible dates like 2026-02-30.
 */
export function parseInstant(value: string): number | null {
  if (!INSTANT.test(value)) return null;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) return null;
  const [y, m, d] = value.slice(0, 10).split("-").map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d!));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m! - 1 || date.getUTCDate() !== d) return null;
  return ms;
}

/** The canonical spelling of a known IANA zone ("europe/berlin" → "Europe/Berlin"). */
export function canonicalTimeZone(zone: string): string {
  return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
}

/** True when `zone` is an IANA time zone the runtime knows (e.g. "Europe/Berlin", "UTC"). */
export function isValidTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

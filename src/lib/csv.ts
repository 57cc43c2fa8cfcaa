// CSV cells (RFC 4180) for the exports: text cells are neutralised against
// spreadsheet formula injection and quoted when needed; numeric cells are printed
// exactly as the stored double, in plain decimal notation, and never altered.

/** A record separator of RFC 4180. */
export const CRLF = "\r\n";

const NEEDS_QUOTES = /[",\r\n]/;
/** Spreadsheets evaluate a cell that begins with one of these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: a leading `'` when it would start a formula; quoted (quotes doubled) when it holds `,` `"` CR or LF. */
export function textCell(value: string | null): string {
  // null and "" differ: an empty quoted field is an empty string, an empty unquoted one is "no value".
  if (value === null) return "";
  if (value === "") return '""';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A numeric cell: never neutralised or rounded; empty for null. */
export function numberCell(value: number | null): string {
  return value === null ? "" : plainNumber(value);
}

/**
 * The shortest decimal that reads back as exactly `n` (what String(n) picks),
 * written without exponent: 1e-7 → "0.0000001", 1e21 → "1000000000000000000000".
 * Never locale-formatted. -0 prints as "0".
 */
export function plainNumber(n: number): string {
  const s = String(n);
  const e = s.indexOf("e");
  if (e < 0) return s; // includes "Infinity"/"NaN", which SQLite never hands back for a REAL column
  const sign = s.startsWith("-") ? "-" : "";
  const [int = "", frac = ""] = s.slice(sign.length, e).split(".");
  const digits = int + frac;
  const point = int.length + Number(s.slice(e + 1)); // where the decimal point falls within `digits`
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** One record: cells already formatted by textCell/numberCell, joined and CRLF-terminated. */
export const csvRecord = (cells: readonly string[]): string => cells.join(",") + CRLF;
